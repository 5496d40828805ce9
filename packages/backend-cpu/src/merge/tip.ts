import { type FloatTensor, type MergeResult, mergeLimit } from '@pumer/core';
import type { Floats } from '../ops/arrays.js';
import { expectFloatInput, expectInteger } from '../validate.js';
import { type DstMap, normalizedRows, similarityDst, sumMergeResult } from './bipartite.js';

/**
 * PuMer's text-informed merge (`tip`, the reference's bipartite_weighted_matching): metric = Kbar·saliency
 * per row, L2-normalised, A's row 0 (the most salient kept token) protected, r = min(r, floor((n-1)/2));
 * merged rows are ADDED into their partner and the unmerged A rows re-sorted by position.
 */
export function tipDst(metric: Floats, saliency: Floats, B: number, n: number, C: number, r: number): DstMap {
  const clamped = Math.min(r, mergeLimit(n, true));
  return similarityDst(normalizedRows(metric, B * n, C, saliency), B, n, C, clamped, true, true);
}

export interface TipMergeArgs {
  /** Token states [B, n, D]. */
  readonly x: FloatTensor;
  /** Similarity metric [B, n, C] (Kbar rows). */
  readonly metric: FloatTensor;
  /** Text saliency [B, n]. */
  readonly saliency: FloatTensor;
  readonly r: number;
}

export function tipMerge(args: TipMergeArgs): MergeResult {
  expectFloatInput('x', args.x, [null, null, null]);
  const [B, n] = args.x.shape as [number, number, number];
  expectFloatInput('metric', args.metric, [B, n, null]);
  expectFloatInput('saliency', args.saliency, [B, n]);
  expectInteger('r', args.r, 0);
  const map = tipDst(args.metric.data, args.saliency.data, B, n, args.metric.shape[2]!, args.r);
  return sumMergeResult(args.x, map);
}
