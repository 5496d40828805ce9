import { describe, expect, it } from 'vitest';
import type { BlockArgs, MergeArgs } from '../contracts.js';
import { PumerError } from '../errors.js';
import type { BlockWeights } from '../model.js';
import { floatTensor, type FloatTensor, intTensor } from '../tensor.js';
import {
  checkBlockArgs,
  checkImagePasses,
  checkMergeArgs,
  checkPruneArgs,
  checkSaliencyArgs,
} from './checks.js';

function t(shape: number[], fill = 0.5): FloatTensor {
  return floatTensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill), shape);
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof PumerError) return err.code;
    throw err;
  }
  return 'none';
}

describe('checkMergeArgs', () => {
  const x = t([2, 6, 3]);
  const metric = t([2, 6, 4]);
  const saliency = t([2, 6]);

  it('returns the style rule and the clamped r', () => {
    const c = checkMergeArgs({ style: 'tip', x, metric, saliency, r: 9 });
    expect(c).toMatchObject({ B: 2, n: 6, D: 3, C: 4, r: 2, protectFirst: true, unmergedOrder: 'position' });
    expect(checkMergeArgs({ style: 'diff', x, saliency, r: 9 })).toMatchObject({
      r: 3,
      protectFirst: false,
      unmergedOrder: 'score',
    });
    expect(checkMergeArgs({ style: 'tome', x, metric, r: 9, protectFirst: false })).toMatchObject({
      r: 3,
      unmergedOrder: 'score',
    });
  });

  it.each<[string, MergeArgs, string, RegExp]>([
    ['an unknown style', { style: 'mean' as 'tip', x, r: 1 }, 'VALUE', /unknown merge style mean/],
    ['a missing metric', { style: 'tome', x, r: 1 }, 'VALUE', /tome merge needs a metric/],
    ['a missing saliency', { style: 'diff', x, r: 1 }, 'VALUE', /diff merge needs a saliency/],
    ['a negative r', { style: 'tome', x, metric, r: -1 }, 'VALUE', /r must be >= 0/],
    ['a fractional r', { style: 'tome', x, metric, r: 0.5 }, 'VALUE', /r must be an integer/],
    ['a rank-2 x', { style: 'diff', x: t([6, 3]), saliency, r: 1 }, 'SHAPE', /x has shape \[6, 3\]/],
    [
      'a metric of another length',
      { style: 'tome', x, metric: t([2, 5, 4]), r: 1 },
      'SHAPE',
      /metric has shape/,
    ],
    [
      'a NaN state',
      { style: 'tome', x: t([2, 6, 3], Number.NaN), metric, r: 1 },
      'VALUE',
      /x contains a non-finite value/,
    ],
    [
      'a zero size',
      { style: 'tome', x, metric, size: t([2, 6, 1], 0), r: 1 },
      'VALUE',
      /size must be positive/,
    ],
  ])('%s', (_label, args, code, message) => {
    expect(codeOf(() => checkMergeArgs(args))).toBe(code);
    expect(() => checkMergeArgs(args)).toThrow(message);
  });
});

describe('checkPruneArgs and checkSaliencyArgs', () => {
  it('bounds keep by the number of scores', () => {
    expect(checkPruneArgs(t([2, 5]), 3)).toEqual({ B: 2, I: 5, keep: 3 });
    expect(codeOf(() => checkPruneArgs(t([2, 5]), 0))).toBe('VALUE');
    expect(codeOf(() => checkPruneArgs(t([2, 5]), 6))).toBe('VALUE');
    expect(codeOf(() => checkPruneArgs(t([5]), 1))).toBe('SHAPE');
  });

  it('reads what the method needs, aliases included', () => {
    const textMask = t([1, 2], 1);
    expect(checkSaliencyArgs('fh', { attn: t([1, 3, 5, 5]), textMask })).toMatchObject({ N: 5, T: 2, H: 3 });
    expect(checkSaliencyArgs('qk', { kbar: t([1, 5, 4]), qbar: t([1, 5, 4]), textMask })).toMatchObject({
      C: 4,
    });
    expect(codeOf(() => checkSaliencyArgs('qk', { kbar: t([1, 5, 4]), textMask }))).toBe('VALUE');
    expect(codeOf(() => checkSaliencyArgs('second_head', { textMask }))).toBe('VALUE');
    expect(codeOf(() => checkSaliencyArgs('mean_head', { attn: t([1, 3, 2, 2]), textMask }))).toBe('VALUE');
    expect(() => checkSaliencyArgs('k_metric', { kbar: t([1, 5, 4]), textMask: t([1, 2], 0) })).toThrow(
      /text mask of example 0 sums to 0/,
    );
  });
});

describe('checkBlockArgs', () => {
  const D = 4;
  const M = 8;
  const ln = () => ({ weight: t([D], 1), bias: t([D], 0), eps: 1e-6 });
  const lin = (out: number, inDim: number) => ({ weight: t([out, inDim], 0.1), bias: t([out], 0) });
  const weights: BlockWeights = {
    norm1: ln(),
    query: lin(D, D),
    key: lin(D, D),
    value: lin(D, D),
    proj: lin(D, D),
    norm2: ln(),
    fc1: lin(M, D),
    fc2: lin(D, M),
  };
  const good: BlockArgs = {
    weights,
    numHeads: 2,
    x: t([1, 5, D]),
    mask: t([1, 5], 1),
    textLen: 2,
    config: null,
    layer: 0,
  };

  it('returns the sizes of a good call', () => {
    expect(checkBlockArgs(good)).toMatchObject({ B: 1, N: 5, D, M, textLen: 2, config: null });
  });

  it.each<[string, Partial<BlockArgs>, string]>([
    ['a mask of another length', { mask: t([1, 4], 1) }, 'SHAPE'],
    ['no image token', { textLen: 5 }, 'VALUE'],
    ['no text token', { textLen: 0 }, 'VALUE'],
    ['heads that do not divide the width', { numHeads: 3 }, 'SHAPE'],
    ['missing weights', { weights: null as unknown as BlockWeights }, 'VALUE'],
    ['a fc2 of the wrong width', { weights: { ...weights, fc2: lin(D, M + 1) } }, 'SHAPE'],
    ['a NaN state', { x: t([1, 5, D], Number.NaN) }, 'VALUE'],
    [
      'a reduce layer whose text rows carry no mask weight',
      {
        mask: floatTensor([0, 0, 1, 1, 1], [1, 5]),
        config: {
          reduceLayers: [0],
          pruneRatio: 0.5,
          mergeRatio: 0,
          textMergeRatio: 0,
          saliency: 'mh',
          mergeStyle: 'tip',
        } as never,
      },
      'VALUE',
    ],
  ])('%s', (_label, change, code) => {
    expect(codeOf(() => checkBlockArgs({ ...good, ...change }))).toBe(code);
  });
});

describe('checkImagePasses', () => {
  // Two examples of two 1-channel 4x4 images (2x2 patches); pixel value = 10 * example + image.
  const pairs = floatTensor(
    Array.from({ length: 2 * 2 * 16 }, (_, i) => 10 * Math.floor(i / 32) + (Math.floor(i / 16) % 2)),
    [2, 2, 1, 4, 4],
  );

  it('splits [B, 2, C, H, W] into one [B, C, H, W] batch per image, masks likewise', () => {
    const mask = intTensor(
      Array.from({ length: 2 * 2 * 16 }, (_, i) => (Math.floor(i / 16) === 3 && i % 4 >= 2 ? 0 : 1)),
      [2, 2, 4, 4],
    );
    const [first, second] = checkImagePasses(pairs, mask, 2, 2);
    expect(first.pixelValues.shape).toEqual([2, 1, 4, 4]);
    expect([first.pixelValues.data[0], first.pixelValues.data[16]]).toEqual([0, 10]);
    expect([second.pixelValues.data[0], second.pixelValues.data[16]]).toEqual([1, 11]);
    expect(first.grids.valid).toEqual([
      { h: 2, w: 2 },
      { h: 2, w: 2 },
    ]);
    // The second example's second image covers the left half only.
    expect(second.grids.valid).toEqual([
      { h: 2, w: 2 },
      { h: 2, w: 1 },
    ]);
    expect(second.pixelMask?.shape).toEqual([2, 4, 4]);
  });

  it('takes one image per example as it is, and names the image of a pair that is wrong', () => {
    const single = floatTensor(new Float32Array(16), [1, 1, 4, 4]);
    expect(checkImagePasses(single, null, 2, 1)[0].pixelValues).toBe(single);
    expect(() => checkImagePasses(single, null, 2, 2)).toThrow(PumerError);
    const holed = intTensor(
      Array.from({ length: 2 * 2 * 16 }, (_, i) => (i === 16 ? 0 : 1)),
      [2, 2, 4, 4],
    );
    expect(() => checkImagePasses(pairs, holed, 2, 2)).toThrow(/^image 1: pixelMask\[0\] must cover/);
  });
});
