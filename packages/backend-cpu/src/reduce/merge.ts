import type { MergeDecision, MergeStyleRule } from '@pumer/core';
import type { Floats } from '../ops/arrays.js';
import { bipartiteDst, type DstMap, identityDst, type MatchScore } from './bipartite.js';

/** What a merge does: the style's rule, the (clamped) r, and the protection the rule and the caller chose. */
/** `metric` rows (optionally scaled by `scale[row]`) divided by their L2 norm; a zero row stays zero. */
export function normalizedRows(metric: Floats, rows: number, C: number, scale?: Floats | null): Float64Array {
  const out = new Float64Array(rows * C);
  for (let r = 0; r < rows; r++) {
    const s = scale ? scale[r]! : 1;
    let norm = 0;
    for (let c = 0; c < C; c++) {
      const v = metric[r * C + c]! * s;
      out[r * C + c] = v;
      norm += v * v;
    }
    norm = Math.sqrt(norm);
    if (norm > 0) for (let c = 0; c < C; c++) out[r * C + c] /= norm;
  }
  return out;
}

export interface MergedRows {
  /** [B, nOut, D]. */
  readonly x: Float64Array;
  /** Summed sizes [B, nOut] (size-weighted-mean only). */
  readonly size: Float64Array | null;
}

/**
 * Applies a destination map to x [B, n, D]: rows sharing an output row are added (`sum`, the reference's
 * scatter_reduce) or averaged weighted by their sizes (`size-weighted-mean`, ToMe's merge_wavg; `size` [B, n]
 * defaults to ones), as the style's `combine` says.
 */
export function mergeRows(
  x: Floats,
  B: number,
  n: number,
  D: number,
  map: DstMap,
  combine: MergeStyleRule['combine'],
  size: Floats | null = null,
): MergedRows {
  const { dst, nOut } = map;
  const out = new Float64Array(B * nOut * D);
  if (combine === 'sum') {
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < n; i++) {
        const src = (b * n + i) * D;
        const to = (b * nOut + dst[b * n + i]!) * D;
        for (let d = 0; d < D; d++) out[to + d] += x[src + d]!;
      }
    }
    return { x: out, size: null };
  }
  const outSize = new Float64Array(B * nOut);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < n; i++) {
      const w = size === null ? 1 : size[b * n + i]!;
      const row = b * nOut + dst[b * n + i]!;
      outSize[row] += w;
      const src = (b * n + i) * D;
      const to = row * D;
      for (let d = 0; d < D; d++) out[to + d] += x[src + d]! * w;
    }
  }
  for (let row = 0; row < B * nOut; row++) {
    const w = outSize[row]!;
    for (let d = 0; d < D; d++) out[row * D + d] /= w;
  }
  return { x: out, size: outSize };
}

/** Token rows to merge, flat: states and what the style reads. */
export interface TokenRows {
  readonly B: number;
  readonly n: number;
  readonly D: number;
  /** States [B, n, D]. */
  readonly x: Floats;
  /** Metric [B, n, C] (styles that read one). */
  readonly metric: Floats | null;
  readonly C: number;
  /** Text saliency [B, n] (styles that read it). */
  readonly saliency: Floats | null;
  /** Sizes [B, n] (size-weighted styles); null: ones. */
  readonly size: Floats | null;
}

export interface MergedTokens {
  /** [B, n - r, D]. */
  readonly x: Float64Array;
  /** Sizes [B, n - r] for size-weighted styles (ones or the given sizes when r = 0), else null. */
  readonly size: Float64Array | null;
  readonly map: DstMap;
}

/** The match score a style's rule asks for: its metric scaled by saliency or not, normalised; or the saliency. */
function matchScore(how: MergeDecision, t: TokenRows): MatchScore {
  if (how.rule.match === 'saliency-gap') return { match: 'saliency-gap', saliency: t.saliency! };
  const scale = how.rule.scaleMetricBySaliency ? t.saliency : null;
  return { match: 'cosine', unit: normalizedRows(t.metric!, t.B * t.n, t.C, scale), C: t.C };
}

/**
 * A bipartite merge of one style (docs/reducers.md, "Merging"), twin of @pumer/onnx's `mergeTokens`: the rule
 * says how rows are matched (its metric scaled by saliency first if `scaleMetricBySaliency`, then normalised;
 * or the saliency gap) and how merged rows combine. The caller has checked the inputs and clamped r.
 */
export function mergeTokens(how: MergeDecision, t: TokenRows): MergedTokens {
  const { B, n, D } = t;
  const weighted = how.rule.combine === 'size-weighted-mean';
  if (how.r === 0) {
    // The reference's do_nothing: states unchanged, sizes as given (ones by default).
    const size = weighted ? (t.size ? Float64Array.from(t.size) : new Float64Array(B * n).fill(1)) : null;
    return { x: Float64Array.from(t.x), size, map: identityDst(B, n) };
  }
  const map = bipartiteDst({
    B,
    n,
    r: how.r,
    protectFirst: how.protectFirst,
    unmergedOrder: how.unmergedOrder,
    score: matchScore(how, t),
  });
  const merged = mergeRows(t.x, B, n, D, map, how.rule.combine, t.size);
  return { x: merged.x, size: merged.size, map };
}

/**
 * `mergeTokens` on states whose mask rows merge alongside, combined the same way: the text merge (its mask can
 * become fractional) and the ToMe baseline over all tokens. mask [B, n]; returns the merged mask [B, n - r].
 */
export function mergeTokensWithMask(
  how: MergeDecision,
  t: TokenRows,
  mask: Floats,
): MergedTokens & { readonly mask: Float64Array } {
  const merged = mergeTokens(how, t);
  const outMask =
    how.r === 0
      ? Float64Array.from(mask)
      : mergeRows(mask, t.B, t.n, 1, merged.map, how.rule.combine, t.size).x;
  return { ...merged, mask: outMask };
}
