import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCpuBackend } from '@pumer/backend-cpu';
import { PumerError, type PumerErrorCode } from '@pumer/core';
import { describe, expect, it } from 'vitest';
import { checkFiniteTensors, type FloatCheckpointTensor } from '../checkpoint/tensors.js';
import { checkJsonValue, describeValue, MAX_JSON_DEPTH } from '../json-value.js';
import { type ViltFiles, viltFromFiles } from '../model.js';
import { createVqaPipeline, rankAnswers } from '../pipeline.js';
import { checkQuestion } from '../pipeline-shared.js';
import { readSafetensors, writeSafetensors } from '../safetensors.js';
import '../node.js';
import { bundledImages, defaultModelDir } from './assets.js';
import { loadVilt } from './load.js';

function pumerError(fn: () => unknown, code: PumerErrorCode): PumerError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PumerError);
    expect((err as PumerError).code).toBe(code);
    return err as PumerError;
  }
  throw new Error('expected a PumerError');
}

async function rejection(p: Promise<unknown>, code: PumerErrorCode): Promise<PumerError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PumerError);
  expect((err as PumerError).code).toBe(code);
  return err as PumerError;
}

const dir = defaultModelDir();
const json = (name: string): unknown => JSON.parse(readFileSync(join(dir, name), 'utf8'));
const weightBytes = new Uint8Array(readFileSync(join(dir, 'model.safetensors')));

function files(weights: Uint8Array): ViltFiles {
  return {
    config: json('config.json'),
    weights,
    tokenizer: json('tokenizer.json'),
    preprocessor: json('preprocessor_config.json'),
    id: 'test',
  };
}

/** The embedded checkpoint's weights with `value` written into one element of the named tensor. */
function weightsWith(name: string, value: number): Uint8Array {
  const { tensors, metadata } = readSafetensors(weightBytes);
  const t = tensors.get(name) as FloatCheckpointTensor;
  const data = Float32Array.from(t.data);
  data[3] = value;
  return writeSafetensors(
    new Map([...tensors].map(([n, x]) => [n, n === name ? { ...x, data } : x])),
    metadata,
  );
}

const image = bundledImages()[0];

describe('hard inputs: non-finite numbers', () => {
  it('never ranks a NaN logit: the output is refused with a VALUE error; infinities rank as extremes', () => {
    const labels = ['yes', 'no', 'red'];
    const err = pumerError(() => rankAnswers(Float32Array.from([Number.NaN, 1, 2]), labels, 3), 'VALUE');
    expect(err.message).toMatch(/1 NaN logit of 3 \(the first for "yes"\)/);
    const ranked = rankAnswers(
      Float32Array.from([Number.NEGATIVE_INFINITY, 1, Number.POSITIVE_INFINITY]),
      labels,
      3,
    );
    expect(ranked.map((a) => a.label)).toEqual(['red', 'no', 'yes']);
    expect(ranked[0].score).toBe(1);
  });

  it('refuses non-finite weights at load, naming the tensor', () => {
    const name = 'vilt.pooler.dense.bias';
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const err = pumerError(() => viltFromFiles(files(weightsWith(name, value))), 'CHECKPOINT');
      expect(err.message).toContain(
        `tensor "${name}" holds 1 non-finite value (the first, ${value}, at flat index 3)`,
      );
    }
    const t: FloatCheckpointTensor = { dtype: 'F16', shape: [2], data: Float32Array.from([1, Number.NaN]) };
    expect(() => checkFiniteTensors(new Map([['x', t]]), 'w')).toThrow(/w: tensor "x" holds 1 non-finite/);
    expect(() =>
      checkFiniteTensors(new Map([['x', { ...t, data: Float32Array.from([1, 2]) }]]), 'w'),
    ).not.toThrow();
  });

  it('refuses NaN logits from a model whose weights went non-finite after loading (every backend ranks the same)', async () => {
    const good = loadVilt(dir);
    const head = good.model.weights.head;
    if (head.kind !== 'classifier') throw new Error(`expected a classifier head, got ${head.kind}`);
    const bias = head.fc2.bias!;
    const broken = {
      ...good,
      model: {
        ...good.model,
        weights: {
          ...good.model.weights,
          head: {
            ...head,
            fc2: { ...head.fc2, bias: { ...bias, data: bias.data.map(() => Number.NaN) } },
          },
        },
      },
    };
    const vqa = await createVqaPipeline({ model: broken, backend: createCpuBackend() });
    const err = await rejection(vqa.answer(image.path, image.question), 'VALUE');
    expect(err.message).toMatch(/NaN logits/);
  });
});

describe('hard inputs: untyped errors become PumerErrors', () => {
  it('describes a shape nested 20,000 deep without overflowing the stack', () => {
    const deep = `${'['.repeat(20000)}${']'.repeat(20000)}`;
    const header = new TextEncoder().encode(`{"a":{"dtype":"F32","shape":${deep},"data_offsets":[0,0]}}`);
    const bytes = new Uint8Array(8 + header.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    expect(pumerError(() => readSafetensors(bytes), 'CHECKPOINT').message).toMatch(
      /shape must be an array of non-negative integers, got \[\[\[\[…\]\]\]\]/,
    );
  });

  it('describeValue never throws: BigInt, deep nesting, cycles, long strings', () => {
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    let deep: unknown = 1;
    for (let i = 0; i < 20000; i++) deep = [deep];
    expect(describeValue(10n)).toBe('10n');
    expect(describeValue(deep)).toBe('[[[[…]]]]');
    expect(describeValue(cycle)).toBe('{"self": {"self": {"self": {…}}}}');
    expect(describeValue('x'.repeat(500)).length).toBeLessThanOrEqual(80);
    expect(describeValue(new Map())).toBe('a Map');
  });

  it('checkJsonValue refuses BigInt, non-JSON objects, NaN, cycles and deep nesting with the given code', () => {
    expect(pumerError(() => checkJsonValue({ a: { b: [1, 2n] } }, 'config.json'), 'CONFIG').message).toBe(
      'config.json: a.b[1] is 2n, not a JSON value',
    );
    expect(
      pumerError(() => checkJsonValue({ x: Number.NaN }, 't.json', 'TOKENIZER'), 'TOKENIZER').message,
    ).toBe('t.json: x is NaN, not a JSON number');
    expect(() => checkJsonValue({ m: new Map() }, 'c')).toThrow(/c: m is a Map, not a JSON object/);
    expect(() => checkJsonValue([undefined], 'c')).toThrow(/c: \[0\] is undefined/);
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    expect(() => checkJsonValue(cycle, 'c')).toThrow(/nests deeper than 64 levels \(or refers to itself\)/);
    let deep: unknown = 1;
    for (let i = 0; i < 20000; i++) deep = [deep];
    expect(() => checkJsonValue(deep, 'c')).toThrow(/nests deeper/);
    let ok: unknown = 1;
    for (let i = 0; i < MAX_JSON_DEPTH; i++) ok = [ok];
    expect(() => checkJsonValue(ok, 'c')).not.toThrow();
    for (const name of ['config.json', 'tokenizer.json', 'preprocessor_config.json'])
      expect(() => checkJsonValue(json(name), name)).not.toThrow();
    expect(() => checkJsonValue({ a: undefined, b: null, c: 'x', d: true, e: 1.5 }, 'c')).not.toThrow();
  });

  it('viltFromFiles refuses a BigInt or a 20,000-deep value in a config with a typed error', () => {
    const config = json('config.json') as Record<string, unknown>;
    pumerError(
      () => viltFromFiles({ ...files(weightBytes), config: { ...config, hidden_size: 64n } }),
      'CONFIG',
    );
    let deep: unknown = 1;
    for (let i = 0; i < 20_000; i++) deep = [deep];
    pumerError(
      () => viltFromFiles({ ...files(weightBytes), config: { ...config, id2label: deep } }),
      'CONFIG',
    );
    pumerError(
      () => viltFromFiles({ ...files(weightBytes), tokenizer: { model: { vocab: { a: 1n } } } }),
      'TOKENIZER',
    );
    pumerError(() => viltFromFiles(null as never), 'VALUE');
  });

  it('createVqaPipeline refuses a missing or wrong model with a VALUE error', async () => {
    for (const model of [null, undefined, 42, {}, { model: {} }]) {
      const err = await rejection(createVqaPipeline({ model: model as never }), 'VALUE');
      expect(err.message).toMatch(/model must be a checkpoint directory or a model from loadVilt/);
    }
    await rejection(createVqaPipeline(null as never), 'VALUE');
  });
});

describe('hard inputs: empty questions', () => {
  it('refuses an empty or whitespace-only question in answer and answerBatch', async () => {
    const vqa = await createVqaPipeline({ model: dir, backend: createCpuBackend() });
    for (const q of ['', '   ', '\t\n'])
      expect((await rejection(vqa.answer(image.path, q), 'VALUE')).message).toBe(
        'the question is empty: ask something about the image',
      );
    const batch = [
      { image: image.path, question: image.question },
      { image: image.path, question: ' ' },
    ];
    expect((await rejection(vqa.answerBatch(batch), 'VALUE')).message).toMatch(
      /the question of item 1 is empty/,
    );
    await rejection(vqa.answer(image.path, null as never), 'VALUE');
    expect(pumerError(() => checkQuestion(7), 'VALUE').message).toBe('question must be a string, got number');
    const ok = await vqa.answer(image.path, image.question);
    expect(ok.answers[0].label).toBe(image.answer);
  });
});
