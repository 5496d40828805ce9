import type { GraphBuilder } from '../builder.js';

/**
 * Ranking as graph fragments. Every selection and merge of the reducers is a 0/1 matrix built by comparing
 * float ranks with constants and applied with MatMul: no TopK, no run-time int64, no dynamic shapes —
 * deterministic, cheap at PuMer's token counts, and placeable on any execution provider (WebGPU included).
 * Index values stay in float32 (exact for the small integers involved) and are cast to int32 only for traces.
 */

/** [f(0), …, f(n-1)]: the constants the fragments compare with. */
export function range(n: number, f: (i: number) => number = (i) => i): number[] {
  return Array.from({ length: n }, (_, i) => f(i));
}

/**
 * Stable rank of each entry of `scores` [B, n]: how many entries come before it when sorted descending (or
 * ascending), ties lower index first — the order TopK gives and the twin of @pumer/backend-cpu's
 * `stableRank`. Float [B, n].
 */
export function stableRank(g: GraphBuilder, scores: string, n: number, descending: boolean): string {
  const si = g.unsqueeze(scores, [2]); // [B, n, 1]: the entry being ranked (i)
  const sj = g.unsqueeze(scores, [1]); // [B, 1, n]: the others (j)
  // Float 0/1 arithmetic instead of And/Or keeps the graph on ops every execution provider has.
  const better = g.cast(g.op(descending ? 'Greater' : 'Less', [sj, si]), 'float32');
  const lowerIndex = g.floats(
    range(n * n, (k) => (k % n < Math.floor(k / n) ? 1 : 0)),
    [n, n],
  ); // [i, j]: j < i
  const tieBefore = g.mul(g.cast(g.op('Equal', [sj, si]), 'float32'), lowerIndex);
  return g.reduceSum(g.add(better, tieBefore), [2], false); // [B, n]
}

/** M[b, o, j] = (idx[b, j] == o) for o < rows: a [B, rows, m] 0/1 matrix from float positions idx [B, m]. */
export function oneHotRows(g: GraphBuilder, idx: string, rows: number): string {
  const col = g.floats(range(rows), [rows, 1]);
  return g.cast(g.op('Equal', [g.unsqueeze(idx, [1]), col]), 'float32');
}
