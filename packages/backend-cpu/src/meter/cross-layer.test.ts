import { SOFT_MASK_EPS, seededRandom } from '@pumer/core';
import { randomBlockWeights, randomTensor } from '@pumer/testkit';
import { describe, expect, it } from 'vitest';
import { attentionArrays, softMaskAttentionArrays } from '../ops/attention.js';

const D = 8;
const H = 2;

describe('soft-mask cross-attention (docs/meter.md, "The soft mask across streams")', () => {
  const next = seededRandom(5);
  const w = randomBlockWeights(next, D, 16);
  const queries = randomTensor(next, [1, 4, D]).data; // 4 query rows (e.g. image tokens)
  const keys = randomTensor(next, [1, 3, D]).data; // 3 key rows (e.g. text tokens)
  const mask = Float64Array.from([1, 0, 0]); // text keys 1 and 2 are padding
  const a = attentionArrays({ B: 1, D, numHeads: H, q: queries, Nq: 4, kv: keys, Nk: 3, mask }, w);
  const p = (h: number, i: number, j: number) => a.probs[(h * 4 + i) * 3 + j]!;

  it('lets query i see key i even when masked, across streams, and only that masked key', () => {
    for (let h = 0; h < H; h++) {
      expect(p(h, 1, 1)).toBeGreaterThan(1e-3); // query 1 sees masked key 1
      expect(p(h, 2, 2)).toBeGreaterThan(1e-3); // query 2 sees masked key 2
      expect(p(h, 1, 2)).toBeLessThan(SOFT_MASK_EPS); // but not masked key 2
      expect(p(h, 0, 1)).toBeLessThan(SOFT_MASK_EPS);
      expect(p(h, 3, 1)).toBeLessThan(SOFT_MASK_EPS); // query 3 has no key 3: it sees key 0 only
      expect(p(h, 3, 0)).toBeGreaterThan(1 - 1e-5);
    }
  });
  it('returns [B, H, Nq, Nk] probabilities, head-mean keys of the key stream and queries of the query stream', () => {
    expect(a.probs).toHaveLength(H * 4 * 3);
    expect(a.kbar).toHaveLength(3 * (D / H));
    expect(a.qbar).toHaveLength(4 * (D / H));
    expect(a.out).toHaveLength(4 * D);
  });
  it('is self-attention when both streams are the same (ViLT path unchanged)', () => {
    const m = Float64Array.from([1, 1, 0, 1]);
    const self = softMaskAttentionArrays(queries, 1, 4, D, H, w, m);
    const cross = attentionArrays(
      { B: 1, D, numHeads: H, q: queries, Nq: 4, kv: queries, Nk: 4, mask: m },
      w,
    );
    expect(Array.from(self.probs)).toEqual(Array.from(cross.probs));
    expect(Array.from(self.out)).toEqual(Array.from(cross.out));
  });
});
