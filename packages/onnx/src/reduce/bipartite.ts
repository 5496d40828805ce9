import { BackendError, mergeLimit } from '@pumer/core';
import { attr, type GraphBuilder } from '../builder.js';
import { range, stableRank } from './rank.js';

/** How A rows are matched (a merge style's `match`), with what it reads. */
export type MatchScore =
  /** Rows of an L2-normalised metric [B, n, C]: each A row takes its most similar B row, best first. */
  | { readonly match: 'cosine'; readonly unit: string }
  /** Saliency [B, n]: each A row takes the B row of closest saliency, smallest gap first. */
  | { readonly match: 'saliency-gap'; readonly saliency: string };

export interface BipartiteOptions {
  readonly n: number;
  /** Tokens to remove, already clamped (core's clampMergeR / the layer plan), > 0. */
  readonly r: number;
  /** A's row 0 is never merged. */
  readonly protectFirst: boolean;
  /** Where unmerged A rows go: re-sorted by position, or left in match order. */
  readonly unmergedOrder: 'position' | 'score';
  readonly score: MatchScore;
}

/**
 * Bipartite matching over n rows (docs/reducers.md, "Merging"; A = even positions, B = odd), twin of
 * @pumer/backend-cpu's `bipartiteDst`: the output row of every input row, float [B, n]. Each A row picks a
 * partner, the A rows are ranked by their best score (cosine: highest first; saliency-gap: smallest first; a
 * protected row 0 last) and the r first-ranked merge. Output layout: unmerged A rows first, then every B row;
 * a merged A row lands on its B partner.
 */
export function bipartiteDst(g: GraphBuilder, o: BipartiteOptions): { dst: string; nOut: number } {
  const { n, r } = o;
  if (!(Number.isInteger(r) && r >= 1 && r <= mergeLimit(n, o.protectFirst))) {
    throw new BackendError(
      `internal: bipartite merge of ${r} rows over ${n} is outside (0, the style's limit]`,
    );
  }
  const nA = Math.ceil(n / 2);
  const nB = Math.floor(n / 2);
  const cosine = o.score.match === 'cosine';
  let pairScores: string; // [B, nA, nB]
  if (o.score.match === 'cosine') {
    const a = g.slice(o.score.unit, 1, 0, n, 2);
    const b = g.slice(o.score.unit, 1, 1, n, 2);
    pairScores = g.matmul(a, g.transpose(b, [0, 2, 1]));
  } else {
    const a = g.unsqueeze(g.slice(o.score.saliency, 1, 0, n, 2), [2]);
    const b = g.unsqueeze(g.slice(o.score.saliency, 1, 1, n, 2), [1]);
    pairScores = g.op('Abs', [g.sub(a, b)]);
  }
  if (o.protectFirst) {
    // Row 0 gets the worst possible score, so it ranks last and never merges.
    const worst = cosine ? -Infinity : Infinity;
    pairScores = g.add(
      pairScores,
      g.floats(
        range(nA, (i) => (i === 0 ? worst : 0)),
        [nA, 1],
      ),
    );
  }
  const best = g.reduce(cosine ? 'ReduceMax' : 'ReduceMin', pairScores, [2]); // [B, nA, 1]
  // Partner: the first B row reaching the best score (weights nB - j make the first one the largest).
  const isBest = g.cast(g.op('Equal', [pairScores, best]), 'float32');
  const firstWeight = g.reduce('ReduceMax', g.mul(isBest, g.floats(range(nB, (j) => nB - j))), [2], false);
  const partner = g.sub(g.float(nB), firstWeight); // [B, nA]
  const rank = stableRank(g, g.squeeze(best, [2]), nA, cosine);
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

/**
 * Identity destinations [B, n] (0, 1, …, n-1 on every row), shaped like the float tensor `like2d` [B, n]:
 * `like * 0 + range` broadcasts without Shape/Expand, so no int64 shape tensor enters the graph.
 */
export function identityDst(g: GraphBuilder, like2d: string, n: number): string {
  return g.add(g.mul(like2d, g.float(0)), g.floats(range(n), [1, n]));
}
