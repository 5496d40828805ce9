import type { SaliencyRule } from './saliency-methods.js';

/**
 * Training-free mode (docs/reducers.md, "Training-free mode"): what changes in a `pumer` layer when the
 * schedule's `trainingFree` is on, for checkpoints fine-tuned without the reducers. The layer plan (every
 * count) is unchanged, so the FLOPs are the default mode's; only how tokens are chosen and combined differs.
 * Every backend reads these rules, so the CPU reference and the ONNX graph cannot drift apart.
 */

/**
 * A zero-mask text row (padding) still needs a weight in a size-weighted mean: two padding rows merging would
 * otherwise divide 0 by 0. Small enough that a real token merged with padding keeps its state.
 */
export const TRAINING_FREE_SIZE_FLOOR = 1e-6;

/**
 * The saliency as the mode reads it: attention saliency averages every head (head 0 of a model trained without
 * the reducers carries no particular text-to-image signal); the keys methods are unchanged.
 */
export function trainingFreeSaliencyRule(rule: SaliencyRule): SaliencyRule {
  return rule.source === 'attention' && rule.heads === 'first' ? { ...rule, heads: 'mean' } : rule;
}
