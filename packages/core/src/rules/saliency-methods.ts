import { ConfigError } from '../errors.js';

/**
 * How image tokens are scored against the text before pruning (docs/reducers.md, "Text saliency").
 * One row per method: what it reads and how it combines it. Backends read these rows; none compares names.
 */
export const SALIENCY_METHODS = ['first_head', 'mean_head', 'k_metric', 'qk'] as const;
export type Saliency = (typeof SALIENCY_METHODS)[number];

export interface SaliencyRule {
  readonly method: Saliency;
  /** Short names the authors' configs use for this method (`sim_method`). */
  readonly aliases: readonly string[];
  /**
   * `attention`: attention probabilities of the text query rows on the image columns;
   * `keys`: dot products of head-averaged projections, text side · image keys.
   */
  readonly source: 'attention' | 'keys';
  /** attention: head 0 only, or the mean over heads. */
  readonly heads: 'first' | 'mean' | null;
  /** keys: the projection the text side uses (keys for k_metric, queries for qk). */
  readonly textSide: 'keys' | 'queries' | null;
}

export const SALIENCY_RULES: Readonly<Record<Saliency, SaliencyRule>> = Object.freeze({
  first_head: { method: 'first_head', aliases: ['fh'], source: 'attention', heads: 'first', textSide: null },
  mean_head: { method: 'mean_head', aliases: ['mh'], source: 'attention', heads: 'mean', textSide: null },
  k_metric: { method: 'k_metric', aliases: ['km'], source: 'keys', heads: null, textSide: 'keys' },
  qk: { method: 'qk', aliases: [], source: 'keys', heads: null, textSide: 'queries' },
});

/** The method a name or alias stands for, or undefined. */
export function findSaliencyMethod(name: unknown): Saliency | undefined {
  if (typeof name !== 'string') return undefined;
  for (const rule of Object.values(SALIENCY_RULES)) {
    if (rule.method === name || rule.aliases.includes(name)) return rule.method;
  }
  return undefined;
}

/** The rule of a method (aliases accepted); a ConfigError naming the accepted names otherwise. */
export function saliencyRule(name: unknown, field = 'saliency'): SaliencyRule {
  const method = findSaliencyMethod(name);
  if (method === undefined) {
    const names = Object.values(SALIENCY_RULES).flatMap((r) => [r.method, ...r.aliases]);
    throw new ConfigError(field, `must be one of ${names.join(', ')}, got ${String(name)}`);
  }
  return SALIENCY_RULES[method];
}
