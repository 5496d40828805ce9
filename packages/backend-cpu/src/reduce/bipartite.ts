import { BackendError, mergeLimit } from '@pumer/core';
import type { Floats } from '../ops/arrays.js';
import { stableRank } from './rank.js';

/**
 * Bipartite merging as a destination map (docs/reducers.md, "Merging"): `dst[b*n + i]` is the output row of
 * input row i. Set A is the even positions, set B the odd ones. The output is the unmerged A rows (in the
 * order the caller asks) followed by every B row; a merged A row lands on its partner B row. With r = 0
 * nothing moves (identity), as the reference returns its input unchanged.
 */
export interface DstMap {
  readonly dst: Int32Array;
  /** Rows per example after merging: n - r. */
  readonly nOut: number;
  readonly r: number;
}

export function identityDst(B: number, n: number): DstMap {
  const dst = new Int32Array(B * n);
  for (let b = 0; b < B; b++) for (let i = 0; i < n; i++) dst[b * n + i] = i;
  return { dst, nOut: n, r: 0 };
}

/** How A rows are matched (a merge style's `match`), with what it reads. */
export type MatchScore =
  /** Rows of an L2-normalised metric [B, n, C]: each A row takes its most similar B row, best first. */
  | { readonly match: 'cosine'; readonly unit: Floats; readonly C: number }
  /** Saliency [B, n]: each A row takes the B row of closest saliency, smallest gap first. */
  | { readonly match: 'saliency-gap'; readonly saliency: Floats };

export interface BipartiteOptions {
  readonly B: number;
  readonly n: number;
  /** Tokens to remove, already clamped (core's clampMergeR / the layer plan). */
  readonly r: number;
  /** A's row 0 is never merged. */
  readonly protectFirst: boolean;
  /** Where unmerged A rows go: re-sorted by position, or left in match order. */
  readonly unmergedOrder: 'position' | 'score';
  readonly score: MatchScore;
}

/** The best B partner (ties: lower index) and its score for A row a of example b. */
function bestPartner(score: MatchScore, o: number, a: number, nB: number): { partner: number; best: number } {
  let partner = 0;
  if (score.match === 'cosine') {
    const { unit, C } = score;
    const ao = (o + 2 * a) * C;
    let best = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < nB; j++) {
      const bo = (o + 2 * j + 1) * C;
      let s = 0;
      for (let c = 0; c < C; c++) s += unit[ao + c]! * unit[bo + c]!;
      if (s > best) {
        best = s;
        partner = j;
      }
    }
    return { partner, best };
  }
  const sa = score.saliency[o + 2 * a]!;
  let best = Number.POSITIVE_INFINITY;
  for (let j = 0; j < nB; j++) {
    const d = Math.abs(sa - score.saliency[o + 2 * j + 1]!);
    if (d < best) {
      best = d;
      partner = j;
    }
  }
  return { partner, best };
}

/**
 * Bipartite matching over n rows per example (twin of @pumer/onnx's `bipartiteDst`, step for step): each A row
 * picks a partner, the A rows are ranked by their best score (cosine: highest first; saliency-gap: smallest
 * first; a protected row 0 last), the r first-ranked merge into their partner, the rest stay.
 */
export function bipartiteDst(o: BipartiteOptions): DstMap {
  const { B, n, r, protectFirst } = o;
  if (!(Number.isInteger(r) && r >= 0 && r <= mergeLimit(n, protectFirst))) {
    throw new BackendError(`internal: bipartite merge of ${r} rows over ${n} exceeds the style's limit`);
  }
  if (r === 0) return identityDst(B, n);
  const nA = Math.ceil(n / 2);
  const nB = Math.floor(n / 2);
  const cosine = o.score.match === 'cosine';
  const numUnmerged = nA - r;
  const dst = new Int32Array(B * n);
  const best = new Float64Array(nA);
  const partner = new Int32Array(nA);
  for (let b = 0; b < B; b++) {
    const off = b * n;
    for (let a = 0; a < nA; a++) {
      if (protectFirst && a === 0) {
        partner[a] = 0;
        best[a] = cosine ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
        continue;
      }
      const m = bestPartner(o.score, off, a, nB);
      partner[a] = m.partner;
      best[a] = m.best;
    }
    const rank = stableRank(best, 0, nA, cosine);
    let stayed = 0;
    for (let a = 0; a < nA; a++) {
      const k = rank[a]!;
      if (k < r) dst[off + 2 * a] = numUnmerged + partner[a]!;
      else dst[off + 2 * a] = o.unmergedOrder === 'position' ? stayed++ : k - r;
    }
    for (let j = 0; j < nB; j++) dst[off + 2 * j + 1] = numUnmerged + j;
  }
  return { dst, nOut: n - r, r };
}
