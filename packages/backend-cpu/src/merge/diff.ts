import { type FloatTensor, type MergeResult, mergeLimit } from '@pumer/core';
import type { Floats } from '../ops/arrays.js';
import { expectFloatInput, expectInteger } from '../validate.js';
import { type DstMap, saliencyDiffDst, sumMergeResult } from './bipartite.js';

/**
 * PuMer's `diff` merge (bipartite_diff_matching): pairs A and B rows whose text saliency differs least,
 * r = min(r, floor(n/2)), no protected row, merged rows summed, unmerged A rows in ascending-difference order.
 */
export function diffDst(saliency: Floats, B: number, n: number, r: number): DstMap {
  return saliencyDiffDst(saliency, B, n, Math.min(r, mergeLimit(n, false)));
}

export interface DiffMergeArgs {
  /** Token states [B, n, D]. */
  readonly x: FloatTensor;
  /** Text saliency [B, n]. */
  readonly saliency: FloatTensor;
  readonly r: number;
}

export function diffMerge(args: DiffMergeArgs): MergeResult {
  expectFloatInput('x', args.x, [null, null, null]);
  const [B, n] = args.x.shape as [number, number, number];
  expectFloatInput('saliency', args.saliency, [B, n]);
  expectInteger('r', args.r, 0);
  const map = diffDst(args.saliency.data, B, n, args.r);
  return sumMergeResult(args.x, map);
}
