import { floatTensor, PumerError, SOFT_MASK_EPS, ShapeError } from '@pumer/core';
import { describe, expect, it } from 'vitest';
import { randomTensor } from '@pumer/testkit';
import { seededRandom as rng } from '@pumer/core';
import { softMaskAttention, softMaskRow } from './attention.js';
import { erf, erfc, gelu, geluTensor } from './gelu.js';
import { layerNorm } from './layer-norm.js';
import { linear } from './linear.js';

describe('erf / erfc', () => {
  // Values from CPython's math.erf / math.erfc.
  const table: [number, number, number][] = [
    [-4, -0.9999999845827421, 1.999999984582742],
    [-2.5, -0.999593047982555, 1.999593047982555],
    [-1, -0.8427007929497149, 1.842700792949715],
    [-0.3, -0.3286267594591274, 1.3286267594591274],
    [0, 0, 1],
    [1e-8, 1.1283791670955126e-8, 0.9999999887162083],
    [0.5, 0.5204998778130465, 0.4795001221869535],
    [2.4999, 0.9995928300996666, 0.0004071699003334514],
    [2.5, 0.999593047982555, 0.0004069520174449589],
    [3, 0.9999779095030014, 2.2090496998585438e-5],
    [5.5, 0.9999999999999927, 7.357847917974398e-15],
  ];
  it.each(table)('erf(%f)', (x, e, c) => {
    expect(Math.abs(erf(x) - e)).toBeLessThan(1e-15);
    expect(Math.abs(erfc(x) - c) / c).toBeLessThan(1e-11);
  });
  it('saturates and propagates NaN', () => {
    expect(erf(-7)).toBe(-1);
    expect(erf(30)).toBe(1);
    expect(Number.isNaN(erf(Number.NaN))).toBe(true);
  });
});

describe('gelu (exact erf form)', () => {
  it('matches x·Φ(x)', () => {
    expect(gelu(1)).toBeCloseTo(0.8413447460685429, 15);
    expect(gelu(-3)).toBeCloseTo(-0.004049694094890287, 15);
    expect(gelu(0.5)).toBeCloseTo(0.34573123063700656, 15);
    expect(gelu(10)).toBe(10);
    expect(Math.abs(gelu(-10))).toBeLessThan(1e-15); // true value -7.6e-23: absolute accuracy is what matters
  });
  it('maps a tensor elementwise', () => {
    const y = geluTensor(floatTensor([-0.5, 0, 0.5], [3]));
    expect(Array.from(y.data)).toEqual([
      Math.fround(-0.15426876936299344),
      0,
      Math.fround(0.34573123063700656),
    ]);
  });
});

describe('layerNorm', () => {
  it('normalises each row with the biased variance', () => {
    const x = floatTensor([1, 2, 3, 4, 2, 2, 2, 2], [2, 4]);
    const w = { weight: floatTensor([1, 1, 1, 2], [4]), bias: floatTensor([0, 0, 0, 1], [4]), eps: 0 };
    const y = layerNorm(x, w);
    const s = Math.sqrt(1.25);
    expect(Array.from(y.data.slice(0, 4))).toEqual(
      [-1.5 / s, -0.5 / s, 0.5 / s, (2 * 1.5) / s + 1].map(Math.fround),
    );
    // a constant row has zero variance: eps 0 would divide by zero, so check with eps > 0
    const y2 = layerNorm(floatTensor([2, 2, 2, 2], [1, 4]), { ...w, eps: 1e-5 });
    expect(Array.from(y2.data)).toEqual([0, 0, 0, 1]);
  });
  it('rejects mismatched weights', () => {
    const w = { weight: floatTensor([1, 1, 1], [3]), bias: floatTensor([0, 0, 0], [3]), eps: 1e-6 };
    expect(() => layerNorm(floatTensor([1, 2, 3, 4], [1, 4]), w)).toThrow(ShapeError);
  });
});

describe('linear', () => {
  it('computes x Wᵀ + b with W as [out, in]', () => {
    const x = floatTensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const w = { weight: floatTensor([1, 0, 0, 0, 1, 1], [2, 3]), bias: floatTensor([10, 20], [2]) };
    expect(Array.from(linear(x, w).data)).toEqual([11, 25, 14, 31]);
    expect(Array.from(linear(x, { weight: w.weight, bias: null }).data)).toEqual([1, 5, 4, 11]);
    expect(linear(floatTensor([1, 2, 3, 4, 5, 6], [1, 2, 3]), w).shape).toEqual([1, 2, 2]);
  });
  it('rejects a weight of the wrong input width', () => {
    expect(() =>
      linear(floatTensor([1, 2], [1, 2]), { weight: floatTensor([1, 2, 3], [1, 3]), bias: null }),
    ).toThrow(ShapeError);
  });
});

describe('soft-mask softmax', () => {
  const s = Float64Array.from([0.3, -1.2, 2.0, 0.7]);
  const run = (mask: number[], i: number) => {
    const p = new Float64Array(4);
    softMaskRow(s, Float64Array.from(mask), 0, i, 4, p);
    return p;
  };
  it('is masked softmax up to eps for a 0/1 mask, and a row always sees itself', () => {
    const p = run([1, 0, 1, 0], 0);
    const e0 = Math.exp(0.3);
    const e2 = Math.exp(2.0);
    expect(p[0]).toBeCloseTo(e0 / (e0 + e2), 5);
    expect(p[2]).toBeCloseTo(e2 / (e0 + e2), 5);
    expect(p[1]).toBeLessThan(1e-6);
    const self = run([1, 0, 1, 0], 1); // row 1 is masked out as a key, but sees itself
    expect(self[1]).toBeGreaterThan(0.01);
  });
  it('matches the reference formula exactly, fractional masks included', () => {
    const mask = [1, 0.5, 0.25, 0];
    const p = run(mask, 3);
    const max = 2.0;
    const e = [0, 1, 2, 3].map((j) => Math.exp(s[j]! - max) * (j === 3 ? 1 : mask[j]!));
    const sum = e.reduce((a, b) => a + b, 0);
    for (let j = 0; j < 4; j++)
      expect(p[j]).toBeCloseTo((e[j]! + SOFT_MASK_EPS / 4) / (sum + SOFT_MASK_EPS), 15);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });
});

describe('softMaskAttention', () => {
  const next = rng(7);
  const D = 8;
  const lin = () => ({ weight: randomTensor(next, [D, D]), bias: randomTensor(next, [D]) });
  const w = { query: lin(), key: lin(), value: lin(), proj: lin() };
  const x = randomTensor(next, [2, 5, D]);
  const mask = floatTensor([1, 1, 0, 1, 1, 1, 1, 1, 1, 1], [2, 5]);
  it('returns probabilities [B,H,N,N] summing to 1 and head-averaged keys and queries', () => {
    const a = softMaskAttention(x, w, 2, mask);
    expect(a.out.shape).toEqual([2, 5, D]);
    expect(a.probs.shape).toEqual([2, 2, 5, 5]);
    expect(a.kbar.shape).toEqual([2, 5, 4]);
    for (let r = 0; r < 20; r++) {
      let sum = 0;
      for (let j = 0; j < 5; j++) sum += a.probs.data[r * 5 + j]!;
      expect(sum).toBeCloseTo(1, 5);
    }
    // Kbar = mean over the two heads of x Wkᵀ + b
    const k = linear(x, w.key);
    for (let n = 0; n < 10; n++) {
      for (let d = 0; d < 4; d++) {
        expect(a.kbar.data[n * 4 + d]).toBeCloseTo((k.data[n * D + d]! + k.data[n * D + 4 + d]!) / 2, 5);
      }
    }
    // key 2 of example 0 is masked: only row 2 itself attends to it
    expect(a.probs.data[0 * 25 + 1 * 5 + 2]).toBeLessThan(1e-5);
    expect(a.probs.data[0 * 25 + 2 * 5 + 2]).toBeGreaterThan(1e-3);
  });
  it('rejects bad input with a PumerError', () => {
    expect(() => softMaskAttention(x, w, 3, mask)).toThrow(/not divisible/);
    expect(() => softMaskAttention(x, w, 2, floatTensor([1, 1, 1, 1, 1], [1, 5]))).toThrow(ShapeError);
    const bad = floatTensor(x.data.slice(), x.shape);
    bad.data[3] = Number.NaN;
    expect(() => softMaskAttention(bad, w, 2, mask)).toThrow(PumerError);
  });
});

describe('erf on a dense grid', () => {
  it('matches the independent continued fraction in the tail and is odd', () => {
    // erfc's continued fraction is independent of the grid+Taylor erf: compare them in the tail,
    // and erf against its odd symmetry and known points elsewhere.
    for (let x = 2.5; x < 6; x += 0.00731) expect(Math.abs(1 - erfc(x) - erf(x))).toBeLessThan(2e-16);
    for (let x = 0; x < 6; x += 0.0173) expect(erf(-x) + erf(x)).toBe(0);
  });
});

describe('linear blocking', () => {
  it('agrees with a naive dot product for every row/column remainder', () => {
    const next = rng(21);
    for (const [rows, inDim, outDim] of [
      [1, 3, 1],
      [2, 5, 4],
      [3, 4, 7],
      [5, 1, 9],
      [4, 6, 8],
    ] as const) {
      const x = randomTensor(next, [rows, inDim]);
      const w = { weight: randomTensor(next, [outDim, inDim]), bias: randomTensor(next, [outDim]) };
      for (const bias of [w.bias, null]) {
        const y = linear(x, { weight: w.weight, bias });
        for (let r = 0; r < rows; r++) {
          for (let o = 0; o < outDim; o++) {
            let acc = bias === null ? 0 : bias.data[o]!;
            for (let k = 0; k < inDim; k++) acc += x.data[r * inDim + k]! * w.weight.data[o * inDim + k]!;
            expect(y.data[r * outDim + o]).toBeCloseTo(acc, 6);
          }
        }
      }
    }
  });
});
