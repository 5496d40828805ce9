import { floatTensor, type MergeStyle, mergeLimit, PumerError, ShapeError } from '@pumer/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomTensor } from '@pumer/testkit';
import { seededRandom as rng } from '@pumer/core';
import { mergeSync } from '../backend.js';

const shapes = fc.record({
  B: fc.integer({ min: 1, max: 3 }),
  n: fc.integer({ min: 1, max: 13 }),
  D: fc.integer({ min: 1, max: 5 }),
  C: fc.integer({ min: 1, max: 4 }),
  r: fc.integer({ min: 0, max: 16 }),
  style: fc.constantFrom<MergeStyle>('tip', 'tome', 'diff'),
  protectFirst: fc.boolean(),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

function inputs(p: { B: number; n: number; D: number; C: number; seed: number }) {
  const next = rng(p.seed);
  return {
    x: randomTensor(next, [p.B, p.n, p.D]),
    metric: randomTensor(next, [p.B, p.n, p.C]),
    saliency: randomTensor(next, [p.B, p.n], 0.01, 1),
    size: randomTensor(next, [p.B, p.n, 1], 1, 4),
  };
}

function limitOf(style: MergeStyle, n: number, protectFirst: boolean): number {
  if (style === 'tip') return mergeLimit(n, true);
  if (style === 'diff') return mergeLimit(n, false);
  return mergeLimit(n, protectFirst);
}

describe('merge properties (random shapes)', () => {
  it('removes exactly min(r, limit) tokens and dst maps onto every output row', () => {
    fc.assert(
      fc.property(shapes, (p) => {
        const t = inputs(p);
        const res = mergeSync({
          style: p.style,
          ...t,
          size: p.style === 'tome' ? t.size : undefined,
          r: p.r,
          protectFirst: p.protectFirst,
        });
        const r = Math.min(p.r, limitOf(p.style, p.n, p.protectFirst));
        expect(res.r).toBe(r);
        expect(res.x.shape).toEqual([p.B, p.n - r, p.D]);
        expect(res.dst.shape).toEqual([p.B, p.n]);
        for (let b = 0; b < p.B; b++) {
          const hit = new Set<number>();
          for (let i = 0; i < p.n; i++) {
            const d = res.dst.data[b * p.n + i]!;
            expect(d).toBeGreaterThanOrEqual(0);
            expect(d).toBeLessThan(p.n - r);
            hit.add(d);
          }
          expect(hit.size).toBe(p.n - r);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('size-weighted merging conserves total size and Σ size·x; sum merging conserves Σ x', () => {
    fc.assert(
      fc.property(shapes, (p) => {
        const t = inputs(p);
        const res = mergeSync({ style: p.style, ...t, size: t.size, r: p.r, protectFirst: p.protectFirst });
        const nOut = p.n - res.r;
        for (let b = 0; b < p.B; b++) {
          const weight = (i: number) => (p.style === 'tome' ? t.size.data[b * p.n + i]! : 1);
          const outWeight = (o: number) => (p.style === 'tome' ? res.size!.data[b * nOut + o]! : 1);
          if (p.style === 'tome') {
            let sIn = 0;
            let sOut = 0;
            for (let i = 0; i < p.n; i++) sIn += weight(i);
            for (let o = 0; o < nOut; o++) sOut += outWeight(o);
            expect(sOut).toBeCloseTo(sIn, 4);
          } else {
            expect(res.size).toBeNull();
          }
          for (let d = 0; d < p.D; d++) {
            let vin = 0;
            let vout = 0;
            for (let i = 0; i < p.n; i++) vin += weight(i) * t.x.data[(b * p.n + i) * p.D + d]!;
            for (let o = 0; o < nOut; o++) vout += outWeight(o) * res.x.data[(b * nOut + o) * p.D + d]!;
            expect(vout).toBeCloseTo(vin, 3);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never merges the protected row: it alone lands on output row 0 (tip, tome with protectFirst)', () => {
    fc.assert(
      fc.property(shapes, (p) => {
        const style = p.style === 'diff' ? 'tip' : p.style;
        const t = inputs(p);
        const res = mergeSync({ style, ...t, r: p.r, protectFirst: true });
        for (let b = 0; b < p.B; b++) {
          const row = Array.from(res.dst.data.subarray(b * p.n, (b + 1) * p.n));
          expect(row[0]).toBe(0);
          expect(row.filter((d) => d === 0)).toHaveLength(1);
          for (let k = 0; k < p.D; k++)
            expect(res.x.data[b * (p.n - res.r) * p.D + k]).toBeCloseTo(t.x.data[b * p.n * p.D + k]!, 6);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('merge examples', () => {
  // Four tokens: A = rows 0, 2; B = rows 1, 3. Row 2 is closest to row 3.
  const metric = floatTensor([1, 0, 0, 1, 0.6, 0.8, 0.8, 0.6], [1, 4, 2]);
  const x = floatTensor([1, 2, 3, 4], [1, 4, 1]);
  it('tome with protection merges A row 1 into its best B and averages by size', () => {
    const res = mergeSync({ style: 'tome', x, metric, r: 1 });
    expect(Array.from(res.dst.data)).toEqual([0, 1, 2, 2]);
    expect(Array.from(res.x.data)).toEqual([1, 2, 3.5]);
    expect(Array.from(res.size!.data)).toEqual([1, 1, 2]);
  });
  it('tip sums merged rows; r = 0 returns the input unchanged with an identity dst', () => {
    const saliency = floatTensor([4, 3, 2, 1], [1, 4]);
    const res = mergeSync({ style: 'tip', x, metric, saliency, r: 1 });
    expect(Array.from(res.x.data)).toEqual([1, 2, 7]);
    const none = mergeSync({ style: 'tip', x, metric, saliency, r: 0 });
    expect(Array.from(none.x.data)).toEqual([1, 2, 3, 4]);
    expect(Array.from(none.dst.data)).toEqual([0, 1, 2, 3]);
  });
  it('diff pairs by smallest saliency difference and keeps unmerged A rows in ascending order', () => {
    // A saliencies 0.9 (row 0), 0.5 (row 2), 0.1 (row 4); B: 0.52 (row 1), 0.0 (row 3).
    const s = floatTensor([0.9, 0.52, 0.5, 0.0, 0.1], [1, 5]);
    const x5 = floatTensor([10, 1, 20, 2, 30], [1, 5, 1]);
    const res = mergeSync({ style: 'diff', x: x5, saliency: s, r: 1 });
    // diffs: row0 → 0.38 (B0), row2 → 0.02 (B0), row4 → 0.1 (B1): row 2 merges into B0; unmerged: row4 (0.1), row0 (0.38)
    expect(Array.from(res.dst.data)).toEqual([1, 2, 2, 3, 0]);
    expect(Array.from(res.x.data)).toEqual([30, 10, 21, 2]);
  });
  it('tome without protection keeps unmerged A rows in descending-score order', () => {
    // A rows 0, 2, 4; B rows 1, 3. Row 4 matches B row 3 exactly, row 0 matches row 1 well, row 2 poorly.
    const m = floatTensor([1, 0.1, 1, 0, -1, 0.2, 0, 1, 0, 1], [1, 5, 2]);
    const x5 = floatTensor([0, 1, 2, 3, 4], [1, 5, 1]);
    const res = mergeSync({ style: 'tome', x: x5, metric: m, r: 1, protectFirst: false });
    // scores: row0·B0 ≈ 0.995, row2 best ≈ 0.196 (B1), row4·B1 = 1 → row 4 merges; unmerged by score: row 0, row 2
    expect(Array.from(res.dst.data)).toEqual([0, 2, 1, 3, 3]);
    expect(Array.from(res.x.data)).toEqual([0, 2, 1, 3.5]);
  });
});

describe('merge rejects bad input with a PumerError', () => {
  const next = rng(3);
  const x = randomTensor(next, [2, 6, 3]);
  const metric = randomTensor(next, [2, 6, 4]);
  const saliency = randomTensor(next, [2, 6]);
  it.each([
    ['r < 0', { style: 'tome' as const, x, metric, r: -1 }, /r must be >= 0/],
    ['non-integer r', { style: 'tome' as const, x, metric, r: 1.5 }, /r must be an integer/],
    ['NaN r', { style: 'tip' as const, x, metric, saliency, r: Number.NaN }, /r must be an integer/],
    [
      'a metric of the wrong length',
      { style: 'tome' as const, x, metric: randomTensor(next, [2, 5, 4]), r: 1 },
      /metric has shape/,
    ],
    ['a rank-2 x', { style: 'diff' as const, x: randomTensor(next, [6, 3]), saliency, r: 1 }, /x has shape/],
    ['a missing saliency', { style: 'tip' as const, x, metric, r: 1 }, /needs a saliency/],
    ['a missing metric', { style: 'tome' as const, x, r: 1 }, /needs a metric/],
    [
      'a zero size',
      { style: 'tome' as const, x, metric, size: floatTensor(new Float32Array(12), [2, 6, 1]), r: 1 },
      /size must be positive/,
    ],
    ['an unknown style', { style: 'mean' as unknown as 'tip', x, r: 1 }, /unknown merge style/],
  ])('%s', (_label, args, message) => {
    expect(() => mergeSync(args)).toThrow(PumerError);
    expect(() => mergeSync(args)).toThrow(message);
  });
  it('NaN in the states or the metric', () => {
    const bad = floatTensor(x.data.slice(), x.shape);
    bad.data[5] = Number.NaN;
    expect(() => mergeSync({ style: 'tome', x: bad, metric, r: 1 })).toThrow(/x contains a non-finite value/);
    const badM = floatTensor(metric.data.slice(), metric.shape);
    badM.data[0] = Number.POSITIVE_INFINITY;
    expect(() => mergeSync({ style: 'tip', x, metric: badM, saliency, r: 1 })).toThrow(
      /metric contains a non-finite value/,
    );
  });
  it('a shape error is a ShapeError', () => {
    expect(() => mergeSync({ style: 'diff', x, saliency: randomTensor(next, [2, 7]), r: 1 })).toThrow(
      ShapeError,
    );
  });
});
