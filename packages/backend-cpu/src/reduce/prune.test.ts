import { floatTensor, PumerError, planLayer, roundHalfEven } from '@pumer/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pruneSync } from '../backend.js';
import { randomTensor } from '@pumer/testkit';
import { seededRandom as rng } from '@pumer/core';

describe('selectTop through pruneSync', () => {
  it('keeps max(I - round(p·I), 1) tokens, highest score first, and the rest score no higher', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 40 }),
        fc.double({ min: 0.001, max: 0.999, noNaN: true }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.boolean(),
        (B, I, p, seed, coarse) => {
          const keep = Math.max(I - roundHalfEven(p * I), 1);
          const plan = planLayer(
            {
              reduceLayers: [0],
              pruneRatio: p,
              mergeRatio: 0,
              textMergeRatio: 0,
              saliency: 'first_head',
              mergeStyle: 'tip',
            },
            0,
            4,
            I,
          );
          if (plan.kind === 'pumer') expect(plan.keep).toBe(keep);
          const scores = randomTensor(rng(seed), [B, I]);
          // coarse scores force ties, which must resolve to the lower index first
          if (coarse)
            for (let i = 0; i < scores.data.length; i++) scores.data[i] = Math.round(scores.data[i]! * 2);
          const res = pruneSync(scores, keep);
          expect(res.keepIdx.shape).toEqual([B, keep]);
          for (let b = 0; b < B; b++) {
            const idx = Array.from(res.keepIdx.data.subarray(b * keep, (b + 1) * keep));
            expect(new Set(idx).size).toBe(keep);
            for (let k = 0; k < keep; k++) {
              expect(res.scores.data[b * keep + k]).toBe(scores.data[b * I + idx[k]!]);
              if (k > 0) {
                const prev = res.scores.data[b * keep + k - 1]!;
                const cur = res.scores.data[b * keep + k]!;
                expect(prev).toBeGreaterThanOrEqual(cur);
                if (prev === cur) expect(idx[k - 1]!).toBeLessThan(idx[k]!);
              }
            }
            const last = res.scores.data[b * keep + keep - 1]!;
            for (let i = 0; i < I; i++)
              if (!idx.includes(i)) expect(scores.data[b * I + i]).toBeLessThanOrEqual(last);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
  it('rejects keep out of range and bad scores', () => {
    const s = floatTensor([0.1, 0.2, 0.3], [1, 3]);
    expect(() => pruneSync(s, 0)).toThrow(PumerError);
    expect(() => pruneSync(s, 4)).toThrow(/keep must be in \[1, 3\]/);
    expect(() => pruneSync(s, 1.5)).toThrow(/keep must be an integer/);
    expect(() => pruneSync(floatTensor([0.1, Number.NaN], [1, 2]), 1)).toThrow(/non-finite/);
    expect(() => pruneSync(floatTensor([0.1, 0.2], [2]), 1)).toThrow(/scores has shape/);
  });
});
