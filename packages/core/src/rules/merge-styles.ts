import { ConfigError } from '../errors.js';

/**
 * How kept tokens are merged (docs/reducers.md, "Merging"). Every style is a bipartite merge: set A is the even
 * rows, set B the odd rows, each A row picks one B partner, the r best-matched A rows merge into their partner.
 * A style is one row of this table; backends read the row and never compare style names.
 */
export const MERGE_STYLES = ['tip', 'tome', 'diff'] as const;
export type MergeStyle = (typeof MERGE_STYLES)[number];

export interface MergeStyleRule {
  readonly style: MergeStyle;
  /**
   * `cosine`: each A row takes the B row of highest cosine similarity of the metric rows, the highest scores
   * merge first; `saliency-gap`: each A row takes the B row whose saliency is closest, the smallest gaps merge first.
   */
  readonly match: 'cosine' | 'saliency-gap';
  /** The metric rows are multiplied by the token's saliency before normalising (PuMer's text-informed merge). */
  readonly scaleMetricBySaliency: boolean;
  /** Row 0 is never merged: always, never, or as the caller asks (`optional`, default true: ToMe's class token). */
  readonly protectFirst: boolean | 'optional';
  /** Rows sharing an output row are added, or averaged weighted by their sizes (ToMe's merge_wavg). */
  readonly combine: 'sum' | 'size-weighted-mean';
  /** The inputs the style reads besides the states. */
  readonly reads: { readonly metric: boolean; readonly saliency: boolean; readonly size: boolean };
}

export const MERGE_STYLE_RULES: Readonly<Record<MergeStyle, MergeStyleRule>> = Object.freeze({
  tip: {
    style: 'tip',
    match: 'cosine',
    scaleMetricBySaliency: true,
    protectFirst: true,
    combine: 'sum',
    reads: { metric: true, saliency: true, size: false },
  },
  tome: {
    style: 'tome',
    match: 'cosine',
    scaleMetricBySaliency: false,
    protectFirst: 'optional',
    combine: 'size-weighted-mean',
    reads: { metric: true, saliency: false, size: true },
  },
  diff: {
    style: 'diff',
    match: 'saliency-gap',
    scaleMetricBySaliency: false,
    protectFirst: false,
    combine: 'sum',
    reads: { metric: false, saliency: true, size: false },
  },
});

/** The rule of a style; a ConfigError naming the styles otherwise. */
export function mergeStyleRule(style: unknown, field = 'mergeStyle'): MergeStyleRule {
  if (typeof style === 'string' && Object.hasOwn(MERGE_STYLE_RULES, style)) {
    return MERGE_STYLE_RULES[style as MergeStyle];
  }
  throw new ConfigError(field, `must be one of ${MERGE_STYLES.join(', ')}, got ${String(style)}`);
}

/** Whether a merge of this style protects row 0 (`requested` only matters where the style leaves it open). */
export function protectsFirst(rule: MergeStyleRule, requested?: boolean): boolean {
  return rule.protectFirst === 'optional' ? (requested ?? true) : rule.protectFirst;
}

/**
 * Where unmerged A rows go in the output: re-sorted by position when row 0 is protected (ToMe's class-token
 * path, which PuMer's tip follows), otherwise left in match order (best match first).
 */
export function unmergedOrder(protectFirst: boolean): 'position' | 'score' {
  return protectFirst ? 'position' : 'score';
}

/** Largest r a bipartite merge over n rows can take: floor((n-1)/2) with a protected row, floor(n/2) without. */
export function mergeLimit(n: number, protectFirst: boolean): number {
  return Math.max(0, Math.floor((n - (protectFirst ? 1 : 0)) / 2));
}

/** The r a merge actually removes: the request clamped to the style's limit. */
export function clampMergeR(r: number, n: number, protectFirst: boolean): number {
  return Math.min(Math.max(0, Math.floor(r)), mergeLimit(n, protectFirst));
}

/** How one merge runs: the style's rule, the r it removes (clamped), protection, and where unmerged rows go. */
export interface MergeDecision {
  readonly rule: MergeStyleRule;
  readonly r: number;
  readonly protectFirst: boolean;
  readonly unmergedOrder: 'position' | 'score';
}

/** A reduce layer's merge of r rows (r from the layer plan): protection as the style decides, ToMe's default on. */
export function layerMergeDecision(rule: MergeStyleRule, r: number): MergeDecision {
  const protectFirst = protectsFirst(rule);
  return { rule, r, protectFirst, unmergedOrder: unmergedOrder(protectFirst) };
}
