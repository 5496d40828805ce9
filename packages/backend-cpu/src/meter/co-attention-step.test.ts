import {
  type CoAttentionStepArgs,
  floatTensor,
  PumerError,
  type ReductionConfig,
  SALIENCY_RULES,
  ShapeError,
  seededRandom,
} from '@pumer/core';
import { randomCrossLayerWeights, randomTensor } from '@pumer/testkit';
import { describe, expect, it } from 'vitest';
import { runCoAttentionStepSync } from '../backend.js';
import { saliencyScores } from '../reduce/saliency.js';

const D = 8;
const config = (p: number, r: number, t: number): ReductionConfig => ({
  reduceLayers: [0],
  pruneRatio: p,
  mergeRatio: r,
  textMergeRatio: t,
  saliency: 'first_head',
  mergeStyle: 'tip',
});

function stepArgs(
  seed: number,
  B: number,
  T: number,
  I: number,
  cfg: ReductionConfig | null,
): CoAttentionStepArgs {
  const next = seededRandom(seed);
  return {
    weights: { text: randomCrossLayerWeights(next, D, 16), image: randomCrossLayerWeights(next, D, 16) },
    numHeads: 2,
    layerNormEps: 1e-12,
    text: randomTensor(next, [B, T, D]),
    textMask: floatTensor(new Float32Array(B * T).fill(1), [B, T]),
    image: randomTensor(next, [B, I, D]),
    imageMask: floatTensor(new Float32Array(B * I).fill(1), [B, I]),
    config: cfg,
    step: 0,
  };
}

describe('reduceCoAttention choices (docs/meter.md, "Where PuMer acts")', () => {
  it('keep <= 2 with a merge asked for (the authors crash): prunes without merging, most salient first', () => {
    // I = 4, p = 0.5: keep 2; merge round(0.5·4) = 2 > 0 but floor((2 - 1) / 2) = 0 rows can merge.
    const args = stepArgs(1, 2, 5, 4, config(0.5, 0.5, 0));
    const res = runCoAttentionStepSync(args);
    expect(res.plan).toMatchObject({
      kind: 'pumer',
      keep: 2,
      imageReduced: true,
      imageMergeR: 0,
      imageOut: 2,
    });
    expect(res.imageReduced.shape).toEqual([2, 2, D]);
    expect(Array.from(res.imageMask.data)).toEqual([1, 1, 1, 1]);
    const keep = res.trace.keepIdx!.data;
    const sal = res.trace.imageSaliency!.data;
    expect(Array.from(res.trace.imageDst!.data)).toEqual([0, 1, 0, 1]);
    for (let b = 0; b < 2; b++) {
      expect(sal[b * 4 + keep[b * 2]!]!).toBeGreaterThanOrEqual(sal[b * 4 + keep[b * 2 + 1]!]!);
      for (let k = 0; k < 2; k++) {
        const src = args.image.data.subarray(
          (b * 4 + keep[b * 2 + k]!) * D,
          (b * 4 + keep[b * 2 + k]! + 1) * D,
        );
        const got = res.imageReduced.data.subarray((b * 2 + k) * D, (b * 2 + k + 1) * D);
        expect(Array.from(got)).toEqual(Array.from(src));
      }
    }
  });
  it('T <= 2 with a text merge asked for: the text keeps its tokens', () => {
    const res = runCoAttentionStepSync(stepArgs(2, 1, 2, 9, config(0.2, 0.2, 0.5)));
    expect(res.plan).toMatchObject({ kind: 'pumer', textMergeR: 0, textOut: 2 });
    expect(res.text.shape).toEqual([1, 2, D]);
    expect(Array.from(res.trace.textDst!.data)).toEqual([0, 1]);
  });
  it('a merge count of 0 leaves the image stream as it was, pruning discarded', () => {
    const args = stepArgs(3, 1, 4, 9, config(0.3, 0, 0.25));
    const res = runCoAttentionStepSync(args);
    expect(res.plan).toMatchObject({ kind: 'pumer', imageReduced: false, imageOut: 9, textOut: 3 });
    expect(Array.from(res.imageReduced.data)).toEqual(Array.from(args.image.data));
    expect(res.trace.keepIdx).toBeUndefined();
    expect(res.imageToTextAttn.shape).toEqual([1, 2, 9, 3]);
  });
  it('a step outside the schedule runs both layers unreduced', () => {
    const args = { ...stepArgs(4, 1, 4, 5, config(0.5, 0.5, 0.5)), step: 1 };
    const res = runCoAttentionStepSync(args);
    expect(res.plan.kind).toBe('none');
    expect(res.trace).toEqual({ layer: 1, kind: 'none', textIn: 4, imageIn: 5, textOut: 4, imageOut: 5 });
  });
});

describe('saliency of a text-to-image block', () => {
  it('equals the joint-attention saliency of the same probabilities', () => {
    const next = seededRandom(9);
    const [B, H, T, I] = [2, 3, 4, 5];
    const N = T + I;
    const joint = randomTensor(next, [B, H, N, N], 0, 1).data;
    const cross = new Float64Array(B * H * T * I);
    for (let bh = 0; bh < B * H; bh++)
      for (let i = 0; i < T; i++)
        for (let j = 0; j < I; j++) cross[(bh * T + i) * I + j] = joint[(bh * N + i) * N + T + j]!;
    const textMask = Float64Array.from([1, 1, 0.5, 0, 1, 1, 1, 1]);
    const rule = SALIENCY_RULES.mean_head;
    const a = saliencyScores(rule, { B, N, T, textMask, attn: joint, numHeads: H });
    const b = saliencyScores(rule, {
      B,
      N,
      T,
      textMask,
      attn: cross,
      numHeads: H,
      attnLayout: 'text-to-image',
    });
    expect(Array.from(b)).toEqual(Array.from(a));
  });
});

describe('runCoAttentionStep rejects bad input with a PumerError', () => {
  const good = stepArgs(7, 1, 4, 5, config(0.3, 0.3, 0.2));
  it.each([
    [
      'an image of another width',
      { image: randomTensor(seededRandom(1), [1, 5, D + 1]) },
      ShapeError,
      /image has shape/,
    ],
    [
      'a text mask of another length',
      { textMask: floatTensor([1, 1, 1], [1, 3]) },
      ShapeError,
      /textMask has shape/,
    ],
    ['heads that do not divide D', { numHeads: 3 }, ShapeError, /numHeads 3 must divide/],
    ['a bad eps', { layerNormEps: 0 }, PumerError, /layerNormEps must be a positive number/],
    ['a negative step', { step: -1 }, PumerError, /step must be >= 0/],
    [
      'an all-padding text when the step reduces',
      { textMask: floatTensor([0, 0, 0, 0], [1, 4]) },
      PumerError,
      /sums to 0/,
    ],
    ['a ratio of 1', { config: config(1, 0, 0) }, PumerError, /pruneRatio must be in \[0, 1\)/],
  ])('%s', (_label, patch, type, message) => {
    const args = { ...good, ...patch } as CoAttentionStepArgs;
    expect(() => runCoAttentionStepSync(args)).toThrow(type);
    expect(() => runCoAttentionStepSync(args)).toThrow(message);
  });
  it('non-finite states', () => {
    const text = floatTensor(good.text.data.slice(), good.text.shape);
    text.data[3] = Number.NaN;
    expect(() => runCoAttentionStepSync({ ...good, text })).toThrow(/text contains a non-finite value/);
  });
});
