import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FloatTensor } from '@pumer/core';
import { crossLayerWeightsFromAuthors, goldenToFloat, parseMeterGoldenCase } from '@pumer/testkit';
import { meterGoldenFiles, meterModelDir, readMeterGoldenDocument } from '@pumer/testkit/node';
import { type CheckpointTensor, readCheckpoint, type TensorToWrite, writeSafetensors } from '@pumer/vilt';
import { describe, expect, it } from 'vitest';
import { thrown } from './testing/thrown.js';
import { toMeterSafetensors } from './convert.js';
import { type MeterFiles, meterFromFiles } from './model.js';
import { crossLayerWeightsFromState } from './weights.js';

const dir = (name: string) => meterModelDir(name as 'tiny-meter-vqa');
const readJson = (name: string, file: string) => JSON.parse(readFileSync(join(dir(name), file), 'utf8'));
const tokenizer = JSON.parse(
  readFileSync(new URL('../assets/tiny-roberta/tokenizer.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

function files(name: string, over: Partial<MeterFiles> = {}): MeterFiles {
  return {
    config: readJson(name, 'config.json'),
    textConfig: readJson(name, 'text_config.json'),
    weights: new Uint8Array(readFileSync(join(dir(name), 'pytorch_model.bin'))),
    tokenizer,
    ...over,
  };
}

/** The tiny VQA checkpoint's tensors, edited, as model.safetensors bytes. */
function edited(edit: (tensors: Map<string, CheckpointTensor>) => void): Uint8Array {
  const { tensors } = readCheckpoint(files('tiny-meter-vqa').weights);
  const copy = new Map(tensors);
  edit(copy);
  const out = new Map<string, TensorToWrite>(
    [...copy].map(([n, t]) => [n, { data: t.data, shape: t.shape }]),
  );
  return writeSafetensors(out);
}

const values = (t: FloatTensor) => Array.from(t.data);

describe("meterFromFiles (the authors' pytorch_model.bin)", () => {
  const vqa = meterFromFiles(files('tiny-meter-vqa'));
  const state = readCheckpoint(files('tiny-meter-vqa').weights).tensors;
  const tensor = (name: string) => Array.from(state.get(name)?.data as Float32Array);

  it('splits CLIP in_proj rows into query, key and value', () => {
    const block = vqa.model.weights.imageEncoder.blocks[1];
    const w = tensor('meter.vit_model.transformer.resblocks.1.attn.in_proj_weight');
    const b = tensor('meter.vit_model.transformer.resblocks.1.attn.in_proj_bias');
    expect(values(block.query.weight)).toEqual(w.slice(0, 32 * 32));
    expect(values(block.key.weight)).toEqual(w.slice(32 * 32, 2 * 32 * 32));
    expect(values(block.value.weight)).toEqual(w.slice(2 * 32 * 32));
    expect(values(block.value.bias as FloatTensor)).toEqual(b.slice(64));
    expect(block.fc1.weight.shape).toEqual([128, 32]);
  });

  it("maps the text encoder, steps and head with the geometry's shapes", () => {
    const w = vqa.model.weights;
    expect(w.textEncoder.layers).toHaveLength(2);
    expect(w.textEncoder.tokenTypeEmbeddings.shape).toEqual([1, 32]);
    expect(w.textEncoder.positionEmbeddings.shape).toEqual([18, 32]);
    expect(w.steps).toHaveLength(2);
    expect(values(w.steps[1].image.crossAttention.key.weight)).toEqual(
      tensor('meter.cross_modal_image_layers.1.crossattention.self.key.weight'),
    );
    expect(w.steps[0].text.feedForward.norm.eps).toBe(1e-12);
    expect(w.tokenTypeEmbeddings.shape).toEqual([2, 32]);
    expect(w.head.kind === 'classifier' && [w.head.fc1.weight.shape, w.head.fc2.weight.shape]).toEqual([
      [64, 64],
      [10, 64],
    ]);
    const nlvr2 = meterFromFiles(files('tiny-meter-nlvr2')).model;
    expect(nlvr2.weights.head.kind === 'classifier' && nlvr2.weights.head.fc1.weight.shape).toEqual([
      64, 128,
    ]);
    expect(nlvr2.weights.tokenTypeEmbeddings.shape).toEqual([3, 32]);
  });

  it('answers a VQA head without labels with its output indices, and takes labels when given', () => {
    expect(vqa.model.labels).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const labels = 'abcdefghij'.split('');
    expect(meterFromFiles(files('tiny-meter-vqa', { labels })).model.labels).toEqual(labels);
    expect(thrown(() => meterFromFiles(files('tiny-meter-vqa', { labels: ['a'] }))).message).toMatch(
      /1 labels, but the checkpoint's MeterForQuestionAnswering head has 10 outputs/,
    );
  });

  it('ids the weights by their contents', () => {
    expect(vqa.model.id).toMatch(/^meter:601597:[0-9a-f]{16}$/);
    expect(meterFromFiles(files('tiny-meter-vqa')).model.id).toBe(vqa.model.id);
    expect(meterFromFiles(files('tiny-meter-ve')).model.id).not.toBe(vqa.model.id);
    expect(meterFromFiles(files('tiny-meter-vqa', { id: 'mine' })).model.id).toBe('mine');
  });

  it('reads the same model back from the safetensors layout (same names, in_proj kept fused)', () => {
    const converted = toMeterSafetensors(files('tiny-meter-nlvr2'));
    const back = meterFromFiles({ ...files('tiny-meter-nlvr2'), weights: converted.weights });
    const original = meterFromFiles(files('tiny-meter-nlvr2'));
    expect(back.model.weights).toEqual(original.model.weights);
    expect(
      readCheckpoint(converted.weights).tensors.has('meter.text_transformer.embeddings.position_ids'),
    ).toBe(false);
  });

  it.each([
    [
      'a missing tensor',
      (t: Map<string, CheckpointTensor>) =>
        t.delete('meter.cross_modal_text_layers.1.crossattention.self.key.bias'),
      /missing tensor "meter.cross_modal_text_layers.1.crossattention.self.key.bias" \(expected shape \[32\]\)/,
    ],
    [
      'a tensor of the wrong shape',
      (t: Map<string, CheckpointTensor>) =>
        t.set('vqa_classifier.3.bias', { dtype: 'F32', shape: [9], data: new Float32Array(9) }),
      /tensor "vqa_classifier.3.bias" has shape \[9\], but config.json implies \[10\]/,
    ],
    [
      'a tensor the model does not read',
      (t: Map<string, CheckpointTensor>) =>
        t.set('meter.cross_modal_text_layers.2.output.dense.bias', {
          dtype: 'F32',
          shape: [32],
          data: new Float32Array(32),
        }),
      /1 tensor\(s\) the model does not use .*"meter.cross_modal_text_layers.2.output.dense.bias"/,
    ],
  ])('refuses %s (CHECKPOINT)', (_what, edit, message) => {
    const e = thrown(() => meterFromFiles(files('tiny-meter-vqa', { weights: edited(edit) })));
    expect(e).toMatchObject({ code: 'CHECKPOINT' });
    expect(e.message).toMatch(message);
  });

  it('skips the buffers and training-only heads it knows (position_ids, itm_score)', () => {
    const weights = edited((t) =>
      t.set('itm_score.fc.weight', { dtype: 'F32', shape: [2, 64], data: new Float32Array(128) }),
    );
    expect(meterFromFiles(files('tiny-meter-vqa', { weights })).model.weights).toEqual(vqa.model.weights);
  });

  it('refuses a config whose sizes the weights do not have', () => {
    const config = { ...readJson('tiny-meter-vqa', 'config.json'), vit_width: 64, vit_heads: 4 };
    const e = thrown(() => meterFromFiles(files('tiny-meter-vqa', { config })));
    expect(e).toMatchObject({ code: 'CHECKPOINT' });
    expect(e.message).toMatch(
      /tensor "meter\.vit_model\.[^"]+" has shape \[[^\]]+\], but config.json implies/,
    );
  });

  it.each([
    [
      'no tokenizer',
      { tokenizer: undefined },
      /config.json names "tiny-roberta" but the checkpoint has no tokenizer.json/,
    ],
    [
      'a tokenizer with ids past the embedding table',
      { tokenizer: { ...tokenizer, added_tokens: [{ id: 64, content: '<mask>' }] } },
      /token ids up to 64, but the model's word-embedding table has 64 rows/,
    ],
    [
      'a tokenizer padding with another id',
      { tokenizer: { ...tokenizer, padding: { pad_id: 3 } } },
      /pads with id 3, but the text encoder's pad_token_id is 1/,
    ],
  ])('refuses %s (TOKENIZER)', (_what, over, message) => {
    const e = thrown(() => meterFromFiles(files('tiny-meter-vqa', over)));
    expect(e).toMatchObject({ code: 'TOKENIZER' });
    expect(e.message).toMatch(message);
  });
});

describe('crossLayerWeightsFromState', () => {
  it("maps a golden step's layers as the testkit's reader does", () => {
    const [file] = meterGoldenFiles();
    const c = parseMeterGoldenCase(readMeterGoldenDocument(file), file);
    const get = (name: string, shape: readonly number[]) => {
      const t = goldenToFloat(c.weights[name]);
      expect(t.shape).toEqual(shape);
      return t;
    };
    const sizes = { hiddenSize: 32, intermediateSize: 64, layerNormEps: 1e-12 };
    for (const prefix of ['cross_modal_text_layers.0.', 'cross_modal_image_layers.0.'])
      expect(crossLayerWeightsFromState(prefix, get, sizes)).toEqual(
        crossLayerWeightsFromAuthors(c.weights, prefix, 1e-12),
      );
  });
});
