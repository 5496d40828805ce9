import { ConfigError } from './errors.js';

/** How image tokens are scored against the text before pruning (DESIGN.md §1, step 1). */
export const SALIENCY_METHODS = ['first_head', 'mean_head', 'k_metric', 'qk'] as const;
export type Saliency = (typeof SALIENCY_METHODS)[number];

/** How the kept image tokens are merged (DESIGN.md §1, step 2). */
export const MERGE_STYLES = ['tip', 'tome', 'diff'] as const;
export type MergeStyle = (typeof MERGE_STYLES)[number];

/**
 * A PuMer schedule: which layers reduce, and by how much. Ratios are fractions of the tokens a layer sees.
 * `tomeCount` is the reference's integer merge setting: in a reduce layer whose pruning rounds to zero it
 * merges that many tokens over the whole sequence with ToMe instead (the ToMe baseline).
 */
export interface ReductionConfig {
  readonly reduceLayers: readonly number[];
  readonly pruneRatio: number;
  readonly mergeRatio: number;
  readonly textMergeRatio: number;
  readonly saliency: Saliency;
  readonly mergeStyle: MergeStyle;
  readonly tomeCount?: number;
}

/** The paper's ViLT VQA schedule. */
export const PAPER_SCHEDULE: ReductionConfig = Object.freeze({
  reduceLayers: Object.freeze([2, 5, 8]),
  pruneRatio: 0.1,
  mergeRatio: 0.3,
  textMergeRatio: 0.2,
  saliency: 'first_head',
  mergeStyle: 'tip',
});

function checkRatio(field: string, v: unknown): void {
  if (typeof v !== 'number' || Number.isNaN(v))
    throw new ConfigError(field, `must be a number, got ${String(v)}`);
  if (!(v >= 0 && v < 1)) throw new ConfigError(field, `must be in [0, 1), got ${v}`);
}

/**
 * Checks every field and returns a normalised copy (layers sorted). Throws a ConfigError naming the field
 * and the bad value. `numLayers`, when given, bounds the layer indices.
 */
export function validateReductionConfig(config: ReductionConfig, numLayers?: number): ReductionConfig {
  if (config === null || typeof config !== 'object') throw new ConfigError('config', 'must be an object');
  const layers = config.reduceLayers;
  if (!Array.isArray(layers))
    throw new ConfigError('reduceLayers', `must be an array of layer indices, got ${String(layers)}`);
  const seen = new Set<number>();
  for (const l of layers) {
    if (typeof l !== 'number' || !Number.isInteger(l))
      throw new ConfigError('reduceLayers', `must hold integers, got ${String(l)}`);
    if (l < 0 || (numLayers !== undefined && l >= numLayers)) {
      const range = numLayers === undefined ? '>= 0' : `in [0, ${numLayers - 1}]`;
      throw new ConfigError('reduceLayers', `layer ${l} is out of range (must be ${range})`);
    }
    if (seen.has(l)) throw new ConfigError('reduceLayers', `layer ${l} is listed twice`);
    seen.add(l);
  }
  checkRatio('pruneRatio', config.pruneRatio);
  checkRatio('mergeRatio', config.mergeRatio);
  checkRatio('textMergeRatio', config.textMergeRatio);
  if (!(SALIENCY_METHODS as readonly string[]).includes(config.saliency)) {
    throw new ConfigError(
      'saliency',
      `must be one of ${SALIENCY_METHODS.join(', ')}, got ${String(config.saliency)}`,
    );
  }
  if (!(MERGE_STYLES as readonly string[]).includes(config.mergeStyle)) {
    throw new ConfigError(
      'mergeStyle',
      `must be one of ${MERGE_STYLES.join(', ')}, got ${String(config.mergeStyle)}`,
    );
  }
  const tome = config.tomeCount ?? 0;
  if (typeof tome !== 'number' || !Number.isInteger(tome) || tome < 0) {
    throw new ConfigError(
      'tomeCount',
      `must be a non-negative integer token count, got ${String(config.tomeCount)}`,
    );
  }
  return {
    reduceLayers: [...layers].sort((a, b) => a - b),
    pruneRatio: config.pruneRatio,
    mergeRatio: config.mergeRatio,
    textMergeRatio: config.textMergeRatio,
    saliency: config.saliency,
    mergeStyle: config.mergeStyle,
    tomeCount: tome,
  };
}

/**
 * Reads the reference's parameter names (`prune_r`, `merge_r`, `merge_text`, `sim_method`, `merge_style`,
 * `reduce_layers`), as found in golden vectors and in a checkpoint's config.json `"pumer"` section.
 * The reference's `merge_r` is a ratio below 1 and an integer ToMe count from 1 up.
 */
export function reductionConfigFromReference(
  p: Record<string, unknown>,
  reduceLayers: readonly number[] = (p['reduce_layers'] as number[] | undefined) ?? [],
): ReductionConfig {
  const mergeR = Number(p['merge_r'] ?? 0);
  if (Number.isNaN(mergeR) || mergeR < 0)
    throw new ConfigError('merge_r', `must be a number >= 0, got ${String(p['merge_r'])}`);
  if (mergeR >= 1 && !Number.isInteger(mergeR)) {
    throw new ConfigError('merge_r', `is a ToMe token count from 1 up and must be an integer, got ${mergeR}`);
  }
  return {
    reduceLayers,
    pruneRatio: Number(p['prune_r'] ?? 0),
    mergeRatio: mergeR < 1 ? mergeR : 0,
    textMergeRatio: Number(p['merge_text'] ?? 0),
    saliency: (p['sim_method'] ?? 'first_head') as Saliency,
    mergeStyle: (p['merge_style'] ?? 'tip') as MergeStyle,
    tomeCount: mergeR >= 1 ? mergeR : 0,
  };
}
