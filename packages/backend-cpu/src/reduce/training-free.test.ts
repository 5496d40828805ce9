import {
  floatTensor,
  MERGE_STYLES,
  planLayer,
  type ReductionConfig,
  SALIENCY_METHODS,
  seededRandom,
} from '@pumer/core';
import { randomBlockWeights, randomTensor } from '@pumer/testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runBlockSync } from '../block.js';

/** A block's arguments: B examples of T text (the last two of example 0 padding) and I image tokens. */
function blockArgs(seed: number, B: number, T: number, I: number, config: ReductionConfig, D = 8) {
  const next = seededRandom(seed);
  const mask = new Float32Array(B * (T + I)).fill(1);
  for (let t = Math.max(1, T - 2); t < T; t++) mask[t] = 0;
  return {
    weights: randomBlockWeights(next, D, 2 * D),
    numHeads: 2,
    x: randomTensor(next, [B, T + I, D]),
    mask: floatTensor(mask, [B, T + I]),
    textLen: T,
    config,
    layer: 0,
  };
}

const configs = fc.record({
  reduceLayers: fc.constant([0]),
  pruneRatio: fc.constantFrom(0.1, 0.2, 0.3, 0.5),
  mergeRatio: fc.constantFrom(0, 0.2, 0.3, 0.5),
  textMergeRatio: fc.constantFrom(0, 0.2, 0.4),
  saliency: fc.constantFrom(...SALIENCY_METHODS),
  mergeStyle: fc.constantFrom(...MERGE_STYLES),
  trainingFree: fc.constant(true),
});

const sum = (a: Float32Array, from: number, to: number) => a.subarray(from, to).reduce((s, v) => s + v, 0);

describe('training-free reduce step', () => {
  it('keeps the default counts and every token: the mask holds sizes that add up to what came in', () => {
    fc.assert(
      fc.property(
        configs,
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 3, max: 7 }),
        fc.integer({ min: 4, max: 14 }),
        fc.integer({ min: 0, max: 1e6 }),
        (config, B, T, I, seed) => {
          const args = blockArgs(seed, B, T, I, config);
          const plan = planLayer(config, 0, T, I);
          const out = runBlockSync(args);
          const n = plan.textOut + plan.imageOut;
          expect(out.x.shape).toEqual([B, n, 8]);
          expect(out.textLen).toBe(plan.textOut);
          for (let b = 0; b < B; b++) {
            const inMask = args.mask.data;
            const m = out.mask.data;
            // Image tokens: pruned ones are recycled, merged ones add their sizes, so the mass stays I.
            expect(sum(m, b * n + plan.textOut, (b + 1) * n)).toBeCloseTo(I, 5);
            expect(sum(m, b * n, b * n + plan.textOut)).toBeCloseTo(
              sum(inMask, b * (T + I), b * (T + I) + T),
              5,
            );
          }
          for (const v of out.x.data) expect(Number.isFinite(v)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('differs from the default mode on the same input', () => {
    const config: ReductionConfig = {
      reduceLayers: [0],
      pruneRatio: 0.3,
      mergeRatio: 0.3,
      textMergeRatio: 0.2,
      saliency: 'first_head',
      mergeStyle: 'tip',
    };
    const plain = runBlockSync(blockArgs(7, 1, 6, 12, config));
    const free = runBlockSync(blockArgs(7, 1, 6, 12, { ...config, trainingFree: true }));
    expect(free.x.shape).toEqual(plain.x.shape);
    expect(Array.from(free.mask.data)).not.toEqual(Array.from(plain.mask.data));
  });
});
