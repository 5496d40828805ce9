import type { FloatTensor, PruneResult } from '@pumer/core';
import { intTensor } from '@pumer/core';
import { type Floats, toFloatTensor } from './ops/arrays.js';
import { expectFloatInput, expectInteger } from './validate.js';

/** Indices 0..n-1 of `v[offset..offset+n)` ranked highest first; ties keep the lower index first. */
export function argsortDescending(v: Floats, offset: number, n: number): Int32Array {
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => {
    const va = v[offset + a]!;
    const vb = v[offset + b]!;
    if (va > vb) return -1;
    if (va < vb) return 1;
    return a - b;
  });
  return Int32Array.from(idx);
}

/** Indices ranked lowest first; ties keep the lower index first. */
export function argsortAscending(v: Floats, offset: number, n: number): Int32Array {
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => {
    const va = v[offset + a]!;
    const vb = v[offset + b]!;
    if (va < vb) return -1;
    if (va > vb) return 1;
    return a - b;
  });
  return Int32Array.from(idx);
}

/** The `keep` highest scores of each of B rows of I, highest first (torch.topk order, ties lower index first). */
export function topKArrays(
  scores: Floats,
  B: number,
  I: number,
  keep: number,
): { idx: Int32Array; values: Float64Array } {
  const idx = new Int32Array(B * keep);
  const values = new Float64Array(B * keep);
  for (let b = 0; b < B; b++) {
    const order = argsortDescending(scores, b * I, I);
    for (let k = 0; k < keep; k++) {
      idx[b * keep + k] = order[k]!;
      values[b * keep + k] = scores[b * I + order[k]!]!;
    }
  }
  return { idx, values };
}

/** Text-informed pruning: keep the `keep` most salient image tokens of each row, in descending score order. */
export function pruneTokens(scores: FloatTensor, keep: number): PruneResult {
  expectFloatInput('scores', scores, [null, null]);
  const [B, I] = scores.shape as [number, number];
  expectInteger('keep', keep, I === 0 ? 0 : 1, I);
  const { idx, values } = topKArrays(scores.data, B, I, keep);
  return { keepIdx: intTensor(idx, [B, keep]), scores: toFloatTensor(values, [B, keep]) };
}
