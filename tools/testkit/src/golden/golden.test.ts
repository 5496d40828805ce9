import { PumerError } from '@pumer/core';
import { describe, expect, it } from 'vitest';
import { readGoldenDocument } from './files.js';
import { ATOL, Comparison, RTOL } from './compare.js';
import { blockArgsFromGolden } from './convert.js';
import { parseGoldenCase } from './format.js';

const tensor = (shape: number[], data: number[], dtype: 'float32' | 'int64' = 'float32') => ({
  dtype,
  shape,
  data,
});
const tomeDoc = () => ({
  format: 'pumer-golden/1',
  kind: 'tome_merge',
  name: 'tiny',
  params: { r: 1, class_token: false },
  inputs: { metric: tensor([1, 2, 2], [1, 0, 1, 0]), x: tensor([1, 2, 1], [1, 3]) },
  outputs: { x: tensor([1, 1, 1], [2]), size: tensor([1, 1, 1], [2]) },
});

describe('parseGoldenCase', () => {
  it('accepts a well-formed case', () => {
    const c = parseGoldenCase(tomeDoc(), 'file');
    expect(c).toMatchObject({ name: 'tiny', kind: 'tome_merge' });
  });
  // biome-ignore lint/suspicious/noExplicitAny: the cases below deliberately corrupt untyped JSON
  type Json = Record<string, any>;
  const broken: [string, (d: Json) => void, RegExp][] = [
    ['a wrong format', (d) => (d.format = 'pumer-golden/2'), /format must be "pumer-golden\/1"/],
    ['an unknown kind', (d) => (d.kind = 'dyvit'), /kind must be one of/],
    [
      'a data length that does not fit the shape',
      (d) => (d.inputs.x.data = [1]),
      /inputs\.x\.data has 1 values, shape \[1, 2, 1\] needs 2/,
    ],
    ['a bad dtype', (d) => (d.inputs.x.dtype = 'float16'), /inputs\.x\.dtype must be/],
    [
      'a non-numeric value',
      (d) => (d.inputs.metric.data[2] = 'a'),
      /inputs\.metric\.data\[2\] is not a finite number/,
    ],
    ['a missing output', (d) => delete d.outputs.size, /outputs\.size is missing/],
    ['a missing param', (d) => delete d.params.class_token, /params\.class_token is missing/],
  ];
  it.each(broken)('rejects %s with a GOLDEN PumerError', (_label, breakIt, message) => {
    const doc = tomeDoc() as Json;
    breakIt(doc);
    let err: unknown;
    try {
      parseGoldenCase(doc, 'file');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PumerError);
    expect((err as PumerError).code).toBe('GOLDEN');
    expect((err as Error).message).toMatch(message);
  });
  it('rejects a document that is not an object', () => {
    expect(() => parseGoldenCase([1, 2], 'file')).toThrow(/not a JSON object/);
  });
});

describe('Comparison', () => {
  it('uses |a - b| <= atol + rtol·|b|', () => {
    const ok = new Comparison();
    const b = 100;
    const edge = ATOL + RTOL * b;
    ok.tensor(
      'v',
      { dtype: 'float32', shape: [1], data: new Float32Array([b + edge * 0.99]) },
      tensor([1], [b]),
    );
    expect(ok.ok).toBe(true);
    const bad = new Comparison();
    bad.tensor(
      'v',
      { dtype: 'float32', shape: [1], data: new Float32Array([b + edge * 1.5]) },
      tensor([1], [b]),
    );
    expect(bad.ok).toBe(false);
    bad.count('text_len', 5, 6);
    expect(bad.problems.at(-1)).toBe('text_len: got 5, expected 6');
  });
});

describe('blockArgsFromGolden', () => {
  it('splits the fused qkv weight into query, key and value rows', () => {
    const c = parseGoldenCase(readGoldenDocument('block0_first_head_tip_p0.1_r0.3_t0.2.json'), 'block0');
    const args = blockArgsFromGolden(c);
    const D = 32;
    const qkv = c.weights['attn.qkv.weight']!.data;
    expect(args.weights.query.weight.shape).toEqual([D, D]);
    expect(args.weights.key.weight.data[0]).toBe(Math.fround(qkv[D * D]!));
    expect(args.weights.value.weight.data[D * D - 1]).toBe(Math.fround(qkv[3 * D * D - 1]!));
    expect(args.weights.value.bias!.data[0]).toBe(Math.fround(c.weights['attn.qkv.bias']!.data[2 * D]!));
    expect(args.weights.norm1.eps).toBe(1e-6);
    expect(args.numHeads).toBe(4);
    expect(args.textLen).toBe(8);
    expect(args.config).toMatchObject({
      reduceLayers: [0],
      pruneRatio: 0.1,
      mergeRatio: 0.3,
      textMergeRatio: 0.2,
      saliency: 'first_head',
      mergeStyle: 'tip',
    });
    expect(Array.from(args.mask.data.slice(0, 8)).every((v) => v === 0 || v === 1)).toBe(true);
  });
});
