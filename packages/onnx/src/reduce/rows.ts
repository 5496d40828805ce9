import { attr, type GraphBuilder } from '../builder.js';

/**
 * Row gathers of the reduce steps (ViLT's `reduceLayer`, METER's co-attention step) as graph values. Twin of
 * @pumer/backend-cpu's reduce/rows.ts.
 */

/**
 * Rows `idx[b, k]` of each example of x [B, n, C] (idx float [B, K], exact small integers) as [B, K, C]: one
 * GatherElements with int32 indices broadcast over the C columns, twin of @pumer/backend-cpu's `gatherRows`.
 * It copies the rows; a 0/1 selection matrix [B, K, n] applied with MatMul would cost 2·K·n·C multiply-adds per
 * example and a [B, K, n] buffer for the same result (docs/benchmark.md, "Memory").
 */
export function gatherRows(g: GraphBuilder, x: string, idx: string, c: number): string {
  // int32 Add broadcasts the column zeros without Shape/Expand: no int64 tensor at run time.
  const index = g.add(g.unsqueeze(g.cast(idx, 'int32'), [2]), g.ints32(new Array(c).fill(0), [1, 1, c]));
  return g.op('GatherElements', [x, index], { axis: attr.int(1) });
}
