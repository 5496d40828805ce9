import type { Floats } from '../ops/arrays.js';
import { stableRank } from './rank.js';

/** The `keep` highest scores of each row: positions and values [B, keep], highest first. */
export interface TopSelection {
  readonly idx: Int32Array;
  readonly values: Float64Array;
}

/**
 * Text-informed pruning (docs/reducers.md, "Pruning"): the `keep` highest of each of B rows of n scores, in
 * descending order, ties lower index first.
 */
export function selectTop(scores: Floats, B: number, n: number, keep: number): TopSelection {
  const idx = new Int32Array(B * keep);
  const values = new Float64Array(B * keep);
  for (let b = 0; b < B; b++) {
    const rank = stableRank(scores, b * n, n, true);
    for (let i = 0; i < n; i++) {
      const k = rank[i]!;
      if (k < keep) {
        idx[b * keep + k] = i;
        values[b * keep + k] = scores[b * n + i]!;
      }
    }
  }
  return { idx, values };
}
