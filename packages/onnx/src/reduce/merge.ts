import type { MergeDecision, MergeStyleRule } from '@pumer/core';
import type { GraphBuilder } from '../builder.js';
import { l2Normalize } from '../nn.js';
import { bipartiteDst, identityDst, type MatchScore } from './bipartite.js';
import { oneHotRows } from './rank.js';

/** What a merge does: the style's rule, the (clamped) r, and the protection the rule and the caller chose. */
export interface MergedRows {
  readonly x: string;
  /** Summed sizes [B, nOut, 1] (size-weighted-mean only). */
  readonly size: string | null;
  /** The 0/1 merge matrix [B, nOut, n]. */
  readonly matrix: string;
}

/**
 * Applies a destination map to x [B, n, D] (dst float [B, n]): rows sharing an output row are added (`sum`)
 * or averaged weighted by their sizes (`size-weighted-mean`; `size` [B, n, 1] defaults to ones), as the
 * style's `combine` says. Twin of @pumer/backend-cpu's `mergeRows`.
 */
export function mergeRows(
  g: GraphBuilder,
  x: string,
  dst: string,
  nOut: number,
  combine: MergeStyleRule['combine'],
  size: string | null = null,
): MergedRows {
  const m = oneHotRows(g, dst, nOut);
  if (combine === 'sum') return { x: g.matmul(m, x), size: null, matrix: m };
  if (size === null) {
    const count = g.reduceSum(m, [2]); // [B, nOut, 1]
    return { x: g.div(g.matmul(m, x), count), size: count, matrix: m };
  }
  const total = g.matmul(m, size);
  return { x: g.div(g.matmul(m, g.mul(x, size)), total), size: total, matrix: m };
}

/** Token rows to merge: states and what the style reads. */
export interface TokenRows {
  readonly n: number;
  /** States [B, n, D]. */
  readonly x: string;
  /** Metric [B, n, C] (styles that read one). */
  readonly metric: string | null;
  /** Text saliency [B, n] (styles that read it). */
  readonly saliency: string | null;
  /** Sizes [B, n, 1] (size-weighted styles); null: ones. */
  readonly size: string | null;
}

export interface MergedTokens {
  /** [B, n - r, D]. */
  readonly x: string;
  /** Sizes [B, n - r, 1] for size-weighted styles; null: all ones (nothing merged, none given) or not weighted. */
  readonly size: string | null;
  /** Output row of each input row, float [B, n]. */
  readonly dst: string;
  readonly nOut: number;
  /** The merge matrix [B, n - r, n]; null when nothing merged. */
  readonly matrix: string | null;
}

/** The match score a style's rule asks for: its metric scaled by saliency or not, normalised; or the saliency. */
function matchScore(g: GraphBuilder, how: MergeDecision, t: TokenRows): MatchScore {
  if (how.rule.match === 'saliency-gap') return { match: 'saliency-gap', saliency: t.saliency! };
  const metric = how.rule.scaleMetricBySaliency ? g.mul(t.metric!, g.unsqueeze(t.saliency!, [2])) : t.metric!;
  return { match: 'cosine', unit: l2Normalize(g, metric) };
}

/**
 * A bipartite merge of one style (docs/reducers.md, "Merging"), twin of @pumer/backend-cpu's `mergeTokens`:
 * the rule says how rows are matched (its metric scaled by saliency first if `scaleMetricBySaliency`, then
 * normalised; or the saliency gap) and how merged rows combine. The caller has checked the inputs and clamped r.
 */
export function mergeTokens(g: GraphBuilder, how: MergeDecision, t: TokenRows): MergedTokens {
  const weighted = how.rule.combine === 'size-weighted-mean';
  if (how.r === 0) {
    // The reference's do_nothing: states unchanged, sizes as given.
    const like = t.saliency ?? g.reduceSum(t.x, [2], false);
    const size = weighted ? t.size : null;
    return { x: t.x, size, dst: identityDst(g, like, t.n), nOut: t.n, matrix: null };
  }
  const { dst, nOut } = bipartiteDst(g, {
    n: t.n,
    r: how.r,
    protectFirst: how.protectFirst,
    unmergedOrder: how.unmergedOrder,
    score: matchScore(g, how, t),
  });
  const merged = mergeRows(g, t.x, dst, nOut, how.rule.combine, t.size);
  return { x: merged.x, size: merged.size, dst, nOut, matrix: merged.matrix };
}

/**
 * `mergeTokens` on states whose mask rows merge alongside, combined the same way: the text merge (its mask can
 * become fractional) and the ToMe baseline over all tokens. mask [B, n]; returns the merged mask [B, n - r].
 */
export function mergeTokensWithMask(
  g: GraphBuilder,
  how: MergeDecision,
  t: TokenRows,
  mask: string,
): MergedTokens & { readonly mask: string } {
  const merged = mergeTokens(g, how, t);
  if (merged.matrix === null) return { ...merged, mask };
  const m3 = g.unsqueeze(mask, [2]); // [B, n, 1]
  const outMask =
    merged.size === null
      ? g.matmul(merged.matrix, m3)
      : g.div(g.matmul(merged.matrix, t.size ? g.mul(m3, t.size) : m3), merged.size);
  return { ...merged, mask: g.squeeze(outMask, [2]) };
}
