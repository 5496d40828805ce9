import type { MergeStyle, Saliency } from '@pumer/core';
import { attr, type GraphBuilder } from './builder.js';
import { l2Normalize } from './nn.js';

/**
 * The reducers as graph fragments. Every selection and merge is expressed as a 0/1 matrix built by comparing
 * float ranks with constants, applied with MatMul: no TopK, no run-time int64, no dynamic shapes — deterministic, cheap
 * at PuMer's token counts, and placeable on any execution provider (WebGPU included). Index values are kept
 * in float32 (exact for the small integers involved) and cast to int32 only for trace outputs.
 */

function range(n: number, f: (i: number) => number = (i) => i): number[] {
  return Array.from({ length: n }, (_, i) => f(i));
}

/**
 * Stable rank of each entry of `scores` [B, n]: how many entries come before it when sorted descending
 * (or ascending), ties broken lower-index-first — the order TopK and the CPU reference use. Float [B, n].
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

export interface TopSelection {
  /** [B, keep, n] selection matrix: row k picks the k-th highest score. */
  readonly pick: string;
  /** Picked positions, float [B, keep]. */
  readonly idx: string;
  /** Picked scores [B, keep], descending. */
  readonly values: string;
}

/** The `keep` highest entries of scores [B, n], in descending order (ties: lower index first). */
export function selectTop(g: GraphBuilder, scores: string, n: number, keep: number): TopSelection {
  const rank = stableRank(g, scores, n, true);
  const pick = oneHotRows(g, rank, keep); // [B, keep, n]
  const idx = g.squeeze(g.matmul(pick, g.floats(range(n), [n, 1])), [2]);
  const values = g.squeeze(g.matmul(pick, g.unsqueeze(scores, [2])), [2]);
  return { pick, idx, values };
}

export type MatchScore =
  /** Cosine-style: rows of a normalised metric [B, n, C]; each A row takes its most similar B row. */
  | { readonly kind: 'similarity'; readonly metric: string }
  /** PuMer's diff: saliency [B, n]; each A row takes the B row with the closest saliency. */
  | { readonly kind: 'difference'; readonly saliency: string };

export interface BipartiteOptions {
  readonly n: number;
  /** Tokens to remove, already clamped (> 0). */
  readonly r: number;
  /** Protect A's first row (ToMe's class token; tip). */
  readonly protectFirst: boolean;
  /** Where unmerged A rows go: re-sorted by position, or left in match-score order. */
  readonly unmergedOrder: 'position' | 'score';
  readonly score: MatchScore;
}

/**
 * Bipartite matching over n rows (A = even positions, B = odd): the output row of every input row,
 * float [B, n]. Output layout: unmerged A rows first, then every B row; a merged A row lands on its B partner.
 */
export function bipartiteDst(g: GraphBuilder, o: BipartiteOptions): { dst: string; nOut: number } {
  const { n, r } = o;
  const nA = Math.ceil(n / 2);
  const nB = Math.floor(n / 2);
  let pairScores: string; // [B, nA, nB]
  let best: string; // [B, nA, 1]
  const similarity = o.score.kind === 'similarity';
  if (o.score.kind === 'similarity') {
    const a = g.slice(o.score.metric, 1, 0, n, 2);
    const b = g.slice(o.score.metric, 1, 1, n, 2);
    pairScores = g.matmul(a, g.transpose(b, [0, 2, 1]));
    if (o.protectFirst) {
      pairScores = g.add(
        pairScores,
        g.floats(
          range(nA, (i) => (i === 0 ? -Infinity : 0)),
          [nA, 1],
        ),
      );
    }
    best = g.reduce('ReduceMax', pairScores, [2]);
  } else {
    const a = g.unsqueeze(g.slice(o.score.saliency, 1, 0, n, 2), [2]);
    const b = g.unsqueeze(g.slice(o.score.saliency, 1, 1, n, 2), [1]);
    pairScores = g.op('Abs', [g.sub(a, b)]);
    if (o.protectFirst) {
      pairScores = g.add(
        pairScores,
        g.floats(
          range(nA, (i) => (i === 0 ? Infinity : 0)),
          [nA, 1],
        ),
      );
    }
    best = g.reduce('ReduceMin', pairScores, [2]);
  }
  // Partner: the first B row reaching the best score (weights nB - j make the first one the largest).
  const isBest = g.cast(g.op('Equal', [pairScores, best]), 'float32');
  const firstWeight = g.reduce('ReduceMax', g.mul(isBest, g.floats(range(nB, (j) => nB - j))), [2], false);
  const partner = g.sub(g.float(nB), firstWeight); // [B, nA]
  const rank = stableRank(g, g.squeeze(best, [2]), nA, similarity);
  const merged = g.op('Less', [rank, g.float(r)]); // the r best-matched A rows
  const numUnmerged = nA - r;
  let unmergedPos: string;
  if (o.unmergedOrder === 'position') {
    // Exclusive cumulative count of unmerged rows, as a MatMul with a strictly-upper-triangular constant.
    const stay = g.sub(g.float(1), g.cast(merged, 'float32'));
    const upper = g.floats(
      range(nA * nA, (k) => (Math.floor(k / nA) < k % nA ? 1 : 0)),
      [nA, nA],
    );
    unmergedPos = g.matmul(stay, upper);
  } else {
    unmergedPos = g.sub(rank, g.float(r));
  }
  const dstA = g.where(merged, g.add(partner, g.float(numUnmerged)), unmergedPos); // [B, nA]
  // Interleave back to input order: even positions read dstA, odd positions have static destinations.
  const isA = g.bools(range(n, (p) => (p % 2 === 0 ? 1 : 0)));
  const aIndex = g.ints32(range(n, (p) => (p % 2 === 0 ? p / 2 : 0)));
  const bDst = g.floats(range(n, (p) => (p % 2 === 1 ? numUnmerged + (p - 1) / 2 : 0)));
  const dst = g.where(isA, g.op('Gather', [dstA, aIndex], { axis: attr.int(1) }), bDst);
  return { dst, nOut: n - r };
}

export interface MergedRows {
  readonly x: string;
  /** Summed sizes [B, nOut, 1] (mean mode only). */
  readonly size: string | null;
  /** The 0/1 merge matrix [B, nOut, n]. */
  readonly matrix: string;
}

/**
 * Applies a destination map: rows sharing an output row are summed ('sum') or size-weighted averaged ('mean',
 * sizes default to 1). x [B, n, D], dst float [B, n].
 */
export function mergeRows(
  g: GraphBuilder,
  x: string,
  dst: string,
  nOut: number,
  mode: 'sum' | 'mean',
  size: string | null = null,
): MergedRows {
  const m = oneHotRows(g, dst, nOut);
  if (mode === 'sum') return { x: g.matmul(m, x), size: null, matrix: m };
  if (size === null) {
    const count = g.reduceSum(m, [2]); // [B, nOut, 1]
    return { x: g.div(g.matmul(m, x), count), size: count, matrix: m };
  }
  const total = g.matmul(m, size);
  return { x: g.div(g.matmul(m, g.mul(x, size)), total), size: total, matrix: m };
}

/**
 * Identity destinations [B, n] (0, 1, …, n-1 on every row), shaped like the float tensor `like2d` [B, n]:
 * `like * 0 + range` broadcasts without Shape/Expand, so no int64 shape tensor enters the graph.
 */
export function identityDst(g: GraphBuilder, like2d: string, n: number): string {
  return g.add(g.mul(like2d, g.float(0)), g.floats(range(n), [1, n]));
}

/**
 * Text saliency of the image tokens, [B, I] (DESIGN.md §1 step 1), divided by each example's text length.
 * attn [B, H, N, N]; kbar / qbar [B, N, hd]; textMask [B, T].
 */
export function saliencyScores(
  g: GraphBuilder,
  method: Saliency,
  src: { attn?: string; kbar?: string; qbar?: string; textMask: string },
  t: number,
  n: number,
): string {
  const tLen = g.reduceSum(src.textMask, [1]); // [B, 1]
  let summed: string;
  if (method === 'first_head' || method === 'mean_head') {
    if (!src.attn) throw new Error(`saliency ${method} needs attention probabilities`);
    // first_head: take head 0 before anything else, so only one head's rows are copied.
    const heads = method === 'first_head' ? g.slice(src.attn, 1, 0, 1) : src.attn;
    let cross = g.slice(g.slice(heads, 2, 0, t), 3, t, n); // [B, H or 1, T, I]
    if (method === 'mean_head') cross = g.reduce('ReduceMean', cross, [1]);
    summed = g.reduceSum(cross, [1, 2], false);
  } else {
    const textSide = method === 'qk' ? src.qbar : src.kbar;
    if (!textSide || !src.kbar)
      throw new Error(`saliency ${method} needs ${method === 'qk' ? 'qbar and ' : ''}kbar`);
    const tm = g.slice(textSide, 1, 0, t); // [B, T, hd]
    const vm = g.slice(src.kbar, 1, t, n); // [B, I, hd]
    summed = g.reduceSum(g.matmul(tm, g.transpose(vm, [0, 2, 1])), [1], false);
  }
  return g.div(summed, tLen);
}

export interface ImageMergeInputs {
  readonly style: MergeStyle;
  /** Kept image states [B, keep, D]. */
  readonly x: string;
  /** Kept keys averaged over heads [B, keep, hd] (tip, tome). */
  readonly kbar: string | null;
  /** Kept saliency [B, keep] (tip, diff). */
  readonly saliency: string | null;
  readonly n: number;
  readonly r: number;
}

/** PuMer's modality-aware merge of the kept image tokens (tip / tome / diff); r > 0. */
export function mergeImage(g: GraphBuilder, o: ImageMergeInputs): { x: string; dst: string; nOut: number } {
  if (o.style === 'diff') {
    if (!o.saliency) throw new Error('diff merge needs saliency');
    const { dst, nOut } = bipartiteDst(g, {
      n: o.n,
      r: o.r,
      protectFirst: false,
      unmergedOrder: 'score',
      score: { kind: 'difference', saliency: o.saliency },
    });
    return { x: mergeRows(g, o.x, dst, nOut, 'sum').x, dst, nOut };
  }
  if (!o.kbar) throw new Error(`${o.style} merge needs a metric`);
  let metric = o.kbar;
  if (o.style === 'tip') {
    if (!o.saliency) throw new Error('tip merge needs saliency');
    metric = g.mul(metric, g.unsqueeze(o.saliency, [2]));
  }
  const { dst, nOut } = bipartiteDst(g, {
    n: o.n,
    r: o.r,
    protectFirst: true,
    unmergedOrder: 'position',
    score: { kind: 'similarity', metric: l2Normalize(g, metric) },
  });
  return { x: mergeRows(g, o.x, dst, nOut, o.style === 'tip' ? 'sum' : 'mean').x, dst, nOut };
}
