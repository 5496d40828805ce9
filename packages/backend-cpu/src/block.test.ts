import {
  type BlockArgs,
  floatTensor,
  MERGE_STYLES,
  PumerError,
  planLayer,
  type ReductionConfig,
  SALIENCY_METHODS,
  ShapeError,
} from '@pumer/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runBlockSync } from './block.js';
import { randomBlockWeights, randomTensor } from '@pumer/testkit';
import { seededRandom as rng } from '@pumer/core';

function blockArgs(
  seed: number,
  B: number,
  T: number,
  I: number,
  config: ReductionConfig | null,
  D = 8,
  H = 2,
): BlockArgs {
  const next = rng(seed);
  const N = T + I;
  const mask = new Float32Array(B * N).fill(1);
  // pad the tail of example 0's text (never its [CLS])
  for (let t = Math.max(1, T - 2); t < T; t++) mask[t] = 0;
  return {
    weights: randomBlockWeights(next, D, 2 * D),
    numHeads: H,
    x: randomTensor(next, [B, N, D]),
    mask: floatTensor(mask, [B, N]),
    textLen: T,
    config,
    layer: 0,
  };
}

const configs = fc.record({
  reduceLayers: fc.constant([0]),
  pruneRatio: fc.constantFrom(0, 0.1, 0.2, 0.3, 0.5),
  mergeRatio: fc.constantFrom(0, 0.2, 0.3, 0.5),
  textMergeRatio: fc.constantFrom(0, 0.2, 0.4),
  saliency: fc.constantFrom(...SALIENCY_METHODS),
  mergeStyle: fc.constantFrom(...MERGE_STYLES),
  tomeCount: fc.constantFrom(0, 2, 5),
});

describe('runBlockSync', () => {
  it('follows planLayer: output sizes, text length and a consistent trace', () => {
    fc.assert(
      fc.property(
        configs,
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 2, max: 7 }),
        fc.integer({ min: 2, max: 14 }),
        fc.integer({ min: 0, max: 1e6 }),
        (config, B, T, I, seed) => {
          const res = runBlockSync(blockArgs(seed, B, T, I, config));
          const plan = planLayer(config, 0, T, I);
          const nOut = plan.textOut + plan.imageOut;
          expect(res.x.shape).toEqual([B, nOut, 8]);
          expect(res.mask.shape).toEqual([B, nOut]);
          expect(res.textLen).toBe(plan.textOut);
          expect(res.attn.shape).toEqual([B, 2, T + I, T + I]);
          expect(res.trace.kind).toBe(plan.kind);
          expect([res.trace.textOut, res.trace.imageOut]).toEqual([plan.textOut, plan.imageOut]);
          const covers = (dst: Int32Array, rows: number, n: number, out: number) => {
            for (let b = 0; b < rows; b++) {
              const row = Array.from(dst.subarray(b * n, (b + 1) * n));
              expect(row.every((d) => d >= 0 && d < out)).toBe(true);
              expect(new Set(row).size).toBe(out);
            }
          };
          if (plan.kind === 'pumer') {
            const t = res.trace;
            expect(t.keepIdx!.shape).toEqual([B, plan.keep]);
            for (let b = 0; b < B; b++) {
              for (let k = 1; k < plan.keep; k++) {
                const prev = t.imageSaliency!.data[b * I + t.keepIdx!.data[b * plan.keep + k - 1]!]!;
                expect(prev).toBeGreaterThanOrEqual(
                  t.imageSaliency!.data[b * I + t.keepIdx!.data[b * plan.keep + k]!]!,
                );
              }
              for (let j = plan.textOut; j < nOut; j++) expect(res.mask.data[b * nOut + j]).toBe(1);
              // text [CLS] is protected: it stays alone at position 0
              expect(t.textDst!.data[b * T]).toBe(0);
            }
            covers(t.imageDst!.data, B, plan.keep, plan.imageOut);
            covers(t.textDst!.data, B, T, plan.textOut);
          } else if (plan.kind === 'tome') {
            covers(res.trace.tokenDst!.data, B, T + I, nOut);
            for (let b = 0; b < B; b++) expect(res.trace.tokenDst!.data[b * (T + I)]).toBe(0);
          } else {
            expect(res.mask.data).toEqual(blockArgs(seed, B, T, I, config).mask.data);
          }
          for (const v of res.mask.data) {
            expect(v).toBeGreaterThanOrEqual(0);
            expect(v).toBeLessThanOrEqual(1 + 1e-6);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('without a schedule (or outside its reduce layers) passes every token through', () => {
    const args = blockArgs(1, 2, 4, 6, null);
    const a = runBlockSync(args);
    const b = runBlockSync({ ...args, config: { ...PAPER, reduceLayers: [3] } });
    expect(a.x.shape).toEqual([2, 10, 8]);
    expect(a.trace).toEqual({ layer: 0, kind: 'none', textIn: 4, imageIn: 6, textOut: 4, imageOut: 6 });
    expect(b.x.data).toEqual(a.x.data);
  });

  it('reduces by the paper schedule on a reduce layer', () => {
    const res = runBlockSync(blockArgs(2, 1, 10, 40, PAPER));
    // prune round(0.1·40) = 4 → keep 36; merge round(0.3·40) = 12; text round(0.2·10) = 2
    expect(res.x.shape).toEqual([1, 8 + 24, 8]);
    expect(res.textLen).toBe(8);
  });

  describe('rejects bad input with a PumerError', () => {
    const good = blockArgs(5, 2, 4, 6, PAPER);
    const cases: [string, Partial<BlockArgs>, RegExp][] = [
      ['x of rank 2', { x: randomTensor(rng(1), [10, 8]) }, /x has shape/],
      [
        'a mask of the wrong length',
        { mask: floatTensor(new Float32Array(18).fill(1), [2, 9]) },
        /mask has shape/,
      ],
      ['textLen beyond N', { textLen: 11 }, /textLen must be in \[1, 9\]/],
      ['a fractional textLen', { textLen: 2.5 }, /textLen must be an integer/],
      ['heads not dividing D', { numHeads: 3 }, /must divide the hidden size/],
      ['a negative layer', { layer: -1 }, /layer must be >= 0/],
      ['a bad ratio', { config: { ...PAPER, pruneRatio: 1.5 } }, /pruneRatio/],
    ];
    it.each(cases)('%s', (_label, patch, message) => {
      expect(() => runBlockSync({ ...good, ...patch })).toThrow(PumerError);
      expect(() => runBlockSync({ ...good, ...patch })).toThrow(message);
    });
    it('NaN in x, wrong weight shapes, an empty text mask', () => {
      const x = floatTensor(good.x.data.slice(), good.x.shape);
      x.data[17] = Number.NaN;
      expect(() => runBlockSync({ ...good, x })).toThrow(/x contains a non-finite value/);
      const weights = { ...good.weights, fc2: { weight: randomTensor(rng(1), [8, 9]), bias: null } };
      expect(() => runBlockSync({ ...good, weights })).toThrow(ShapeError);
      const nanBias = floatTensor(good.weights.fc1.bias!.data.slice(), good.weights.fc1.bias!.shape);
      nanBias.data[2] = Number.NaN;
      const nanWeights = { ...good.weights, fc1: { ...good.weights.fc1, bias: nanBias } };
      expect(() => runBlockSync({ ...good, weights: nanWeights })).toThrow(
        /fc1\.bias contains a non-finite value/,
      );
      const mask = floatTensor(good.mask.data.slice(), good.mask.shape);
      for (let t = 0; t < 4; t++) mask.data[t] = 0;
      expect(() => runBlockSync({ ...good, mask })).toThrow(/text mask of example 0 sums to 0/);
    });
  });
});

const PAPER: ReductionConfig = {
  reduceLayers: [0],
  pruneRatio: 0.1,
  mergeRatio: 0.3,
  textMergeRatio: 0.2,
  saliency: 'first_head',
  mergeStyle: 'tip',
};
