import { type FloatTensor, intTensor, type MergeResult, mergeLimit, PumerError } from '@pumer/core';
import { type Floats, toFloatTensor } from '../ops/arrays.js';
import { expectFloatInput, expectInteger } from '../validate.js';
import { type DstMap, normalizedRows, similarityDst, weightedAverageByDst } from './bipartite.js';

/**
 * ToMe bipartite soft matching on `metric` [B, n, C]. With `protectFirst` (ToMe's class_token) row 0 is never
 * merged, r = min(r, floor((n-1)/2)) and the unmerged A rows are re-sorted by position; without it nothing
 * is protected, r = min(r, floor(n/2)) and the unmerged A rows stay in descending-score order.
 */
export function tomeDst(
  metric: Floats,
  B: number,
  n: number,
  C: number,
  r: number,
  protectFirst: boolean,
): DstMap {
  const clamped = Math.min(r, mergeLimit(n, protectFirst));
  return similarityDst(normalizedRows(metric, B * n, C), B, n, C, clamped, protectFirst, protectFirst);
}

export interface TomeMergeArgs {
  /** Token states [B, n, D]. */
  readonly x: FloatTensor;
  /** Similarity metric [B, n, C]. */
  readonly metric: FloatTensor;
  /** Token sizes [B, n, 1]; default ones. */
  readonly size?: FloatTensor | null;
  readonly r: number;
  /** Default true. */
  readonly protectFirst?: boolean;
}

/** ToMe merge with size-weighted averaging (merge_wavg): returns the merged states and the summed sizes. */
export function tomeMerge(args: TomeMergeArgs): MergeResult {
  expectFloatInput('x', args.x, [null, null, null]);
  const [B, n, D] = args.x.shape as [number, number, number];
  expectFloatInput('metric', args.metric, [B, n, null]);
  expectInteger('r', args.r, 0);
  const size = args.size ?? null;
  if (size !== null) {
    expectFloatInput('size', size, [B, n, 1]);
    for (let i = 0; i < size.data.length; i++) {
      if (!(size.data[i]! > 0))
        throw new PumerError('VALUE', `size must be positive, got ${size.data[i]} at flat index ${i}`);
    }
  }
  const map = tomeDst(args.metric.data, B, n, args.metric.shape[2]!, args.r, args.protectFirst ?? true);
  if (map.r === 0) {
    // The reference's do_nothing: states unchanged, sizes as given (ones by default).
    return {
      x: toFloatTensor(args.x.data.slice(), [B, n, D]),
      size:
        size === null
          ? toFloatTensor(new Float32Array(B * n).fill(1), [B, n, 1])
          : toFloatTensor(size.data.slice(), [B, n, 1]),
      dst: intTensor(map.dst, [B, n]),
      r: 0,
    };
  }
  const merged = weightedAverageByDst(args.x.data, size?.data ?? null, B, n, D, map);
  return {
    x: toFloatTensor(merged.x, [B, map.nOut, D]),
    size: toFloatTensor(merged.size, [B, map.nOut, 1]),
    dst: intTensor(map.dst, [B, n]),
    r: map.r,
  };
}
