import type { GraphBuilder } from '../builder.js';
import { oneHotRows, range, stableRank } from './rank.js';

export interface TopSelection {
  /** [B, keep, n] selection matrix: row k picks the k-th highest score. */
  readonly pick: string;
  /** Picked positions, float [B, keep]. */
  readonly idx: string;
  /** Picked scores [B, keep], descending. */
  readonly values: string;
  /** Every entry's stable rank, float [B, n]: 0 for the highest score. */
  readonly rank: string;
}

/**
 * Text-informed pruning (docs/reducers.md, "Pruning"): the `keep` highest entries of scores [B, n], in
 * descending order, ties lower index first.
 */
export function selectTop(g: GraphBuilder, scores: string, n: number, keep: number): TopSelection {
  const rank = stableRank(g, scores, n, true);
  const pick = oneHotRows(g, rank, keep); // [B, keep, n]
  const idx = g.squeeze(g.matmul(pick, g.floats(range(n), [n, 1])), [2]);
  const values = g.squeeze(g.matmul(pick, g.unsqueeze(scores, [2])), [2]);
  return { pick, idx, values, rank };
}
