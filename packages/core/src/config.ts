import { ConfigError } from './errors.js';
import { type MergeStyle, mergeStyleRule } from './rules/merge-styles.js';
import { type Saliency, saliencyRule } from './rules/saliency-methods.js';

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
  /**
   * Training-free mode (docs/reducers.md, "Training-free mode"): the same token counts, reduced in a way that
   * suits checkpoints fine-tuned without the reducers. Absent or false: the reference's semantics.
   */
  readonly trainingFree?: boolean;
}

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
  // Aliases (the authors' `fh`, `mh`, `km`) are accepted and normalised to the method's name.
  const saliency = saliencyRule(config.saliency).method;
  const mergeStyle = mergeStyleRule(config.mergeStyle).style;
  const tome = config.tomeCount ?? 0;
  if (typeof tome !== 'number' || !Number.isInteger(tome) || tome < 0) {
    throw new ConfigError(
      'tomeCount',
      `must be a non-negative integer token count, got ${String(config.tomeCount)}`,
    );
  }
  const trainingFree = config.trainingFree ?? false;
  if (typeof trainingFree !== 'boolean')
    throw new ConfigError('trainingFree', `must be true or false, got ${String(config.trainingFree)}`);
  return {
    reduceLayers: [...layers].sort((a, b) => a - b),
    pruneRatio: config.pruneRatio,
    mergeRatio: config.mergeRatio,
    textMergeRatio: config.textMergeRatio,
    saliency,
    mergeStyle,
    tomeCount: tome,
    ...(trainingFree ? { trainingFree } : {}),
  };
}

function referenceNumber(p: Record<string, unknown>, key: string): number {
  const v = p[key] ?? 0;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ConfigError(key, `must be a number, got ${JSON.stringify(v) ?? String(v)}`);
  }
  return v;
}

/**
 * Reads the reference's parameter names (`prune_r`, `merge_r`, `merge_text`, `sim_method`, `merge_style`,
 * `reduce_layers`), as found in golden vectors, the authors' checkpoints and a config.json `"pumer"` section,
 * plus our `training_free` (docs/reducers.md, "Training-free mode").
 * The reference's `merge_r` is a ratio below 1 and an integer ToMe count from 1 up; `sim_method` may be one of
 * the authors' aliases (`fh`, `mh`, `km`). The result is not yet validated: pass it to validateReductionConfig.
 */
export function reductionConfigFromReference(
  p: Record<string, unknown>,
  reduceLayers: readonly number[] = (p['reduce_layers'] as number[] | undefined) ?? [],
): ReductionConfig {
  const mergeR = referenceNumber(p, 'merge_r');
  if (mergeR < 0) throw new ConfigError('merge_r', `must be a number >= 0, got ${mergeR}`);
  if (mergeR >= 1 && !Number.isInteger(mergeR)) {
    throw new ConfigError('merge_r', `is a ToMe token count from 1 up and must be an integer, got ${mergeR}`);
  }
  return {
    reduceLayers,
    pruneRatio: referenceNumber(p, 'prune_r'),
    mergeRatio: mergeR < 1 ? mergeR : 0,
    textMergeRatio: referenceNumber(p, 'merge_text'),
    saliency: saliencyRule(p['sim_method'] ?? 'first_head', 'sim_method').method,
    mergeStyle: mergeStyleRule(p['merge_style'] ?? 'tip', 'merge_style').style,
    tomeCount: mergeR >= 1 ? mergeR : 0,
    // Ours, not the reference's: `pumer tune` writes it when it picks the training-free mode.
    ...(p['training_free'] !== undefined ? { trainingFree: p['training_free'] as boolean } : {}),
  };
}

/**
 * A schedule in the reference's names, as a config.json `"pumer"` section holds it (reductionConfigFromReference
 * reads it back exactly): the reference's `merge_r` is a ratio below 1 and a ToMe token count from 1 up;
 * `training_free` is written only when on.
 */
export function reductionConfigToReference(config: ReductionConfig): Record<string, unknown> {
  return {
    reduce_layers: [...config.reduceLayers],
    prune_r: config.pruneRatio,
    merge_r: config.tomeCount ? config.tomeCount : config.mergeRatio,
    merge_text: config.textMergeRatio,
    sim_method: config.saliency,
    merge_style: config.mergeStyle,
    ...(config.trainingFree ? { training_free: true } : {}),
  };
}

/**
 * A METER schedule (docs/meter.md, "Where PuMer acts"): validateReductionConfig over `numSteps` co-attention steps,
 * refusing what METER has no meaning for. The training-free mode changes ViLT's reduce step; METER's is the
 * authors' fixed one, so asking for it there is an error rather than a silent no-op.
 */
export function validateMeterReductionConfig(config: ReductionConfig, numSteps?: number): ReductionConfig {
  const checked = validateReductionConfig(config, numSteps);
  if (checked.trainingFree === true)
    throw new ConfigError(
      'trainingFree',
      "METER has no training-free mode (its reduce step is the authors' fixed one)",
    );
  return checked;
}
