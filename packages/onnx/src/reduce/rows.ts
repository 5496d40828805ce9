import { attr, type GraphBuilder } from '../builder.js';

/**
 * Row gathers of the reduce steps (ViLT's `reduceLayer`, METER's co-attention step) as graph values. Twin of
 * @pumer/backend-cpu's reduce/rows.ts.
 */

/**
 * Rows `idx[b, k]` of each example of x [B, n, C] (idx float [B, K], exact small integers) as [B, K, C], twin of
 * @pumer/backend-cpu's `gatherRows`: the rows of all examples flattened to [B·n, C] and picked by one `Gather`
 * at b·n + idx[b, k], so each row is one block copy. A 0/1 selection matrix [B, K, n] applied with MatMul would
 * cost 2·K·n·C multiply-adds per example and a [B, K, n] buffer (docs/benchmark.md, "Memory"); `GatherElements`
 * with a [B, K, C] index computes an address per element and took as long as that MatMul on the tiny model.
 */
export function gatherRows(g: GraphBuilder, x: string, idx: string, n: number, c: number): string {
  return rowGather(g, idx, n)(x, c);
}

/**
 * The same gather for several tensors with the same rows [B, n, ·] and positions idx [B, K]: the flat index is
 * built once. Returns (x, C) → [B, K, C].
 */
export function rowGather(g: GraphBuilder, idx: string, n: number): (x: string, c: number) => string {
  // Each example's first flat row, b·n, as [B, 1]: an exclusive running sum of n down the batch (no Shape,
  // Range or int64 tensor at run time, so every execution provider places it).
  const perExample = g.add(g.mul(g.slice(idx, 1, 0, 1), g.float(0)), g.float(n)); // [B, 1] of n
  const first = g.op('CumSum', [perExample, g.ints32([0], [])], { exclusive: attr.int(1) });
  const flat = g.cast(g.add(idx, first), 'int32'); // [B, K]
  return (x, c) => g.op('Gather', [g.reshape(x, [-1, c]), flat], { axis: attr.int(0) });
}
