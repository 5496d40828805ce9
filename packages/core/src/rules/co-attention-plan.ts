import type { ReductionConfig } from '../config.js';
import { roundHalfEven } from '../rounding.js';
import { mergeLimit } from './merge-styles.js';

/**
 * What one METER co-attention step does to the token counts (docs/meter.md, "Where PuMer acts") — the single
 * place every backend and the scheduler take METER's counts from. The authors' METER path differs from ViLT's
 * layer plan (`planLayer`), and we reproduce it:
 * - the step reduces whenever the prune *ratio* is > 0, even if its count rounds to 0 (the kept tokens are then
 *   all of them, re-ordered by saliency);
 * - image merging is always size-weighted ToMe with row 0 protected, text merging ToMe on the self-attention keys;
 * - a merge count that rounds to 0 leaves the image stream unchanged (the pruning is computed and discarded);
 * - where the authors' code crashes (a merge is asked for but `keep` <= 2 leaves nothing to merge) we prune
 *   without merging (`imageMergeR` 0); the text likewise keeps its tokens when T <= 2.
 * The ratios' saliency and merge style are ignored, as by the authors' METER.
 */
export type CoAttentionPlan =
  | {
      readonly kind: 'none';
      readonly textIn: number;
      readonly imageIn: number;
      readonly textOut: number;
      readonly imageOut: number;
    }
  | {
      readonly kind: 'pumer';
      readonly textIn: number;
      readonly imageIn: number;
      /** round(p·I): image tokens pruning removes. */
      readonly pruneCount: number;
      /** max(I - pruneCount, 1): image tokens kept, in descending saliency. */
      readonly keep: number;
      /** False when the merge count rounds to 0: the image stream passes through unchanged. */
      readonly imageReduced: boolean;
      /** Tokens the image merge removes from the kept ones (clamped to floor((keep - 1) / 2)). */
      readonly imageMergeR: number;
      /** Tokens the text merge removes (clamped to floor((T - 1) / 2)). */
      readonly textMergeR: number;
      readonly textOut: number;
      readonly imageOut: number;
    };

/**
 * The plan of co-attention step `step` whose text layer sees `textIn` text and `imageIn` image tokens (image CLS
 * included). `config.reduceLayers` holds step indices (the authors' layer_idx / 2); null = no reduction.
 */
export function planCoAttentionStep(
  config: ReductionConfig | null,
  step: number,
  textIn: number,
  imageIn: number,
): CoAttentionPlan {
  const none = { kind: 'none', textIn, imageIn, textOut: textIn, imageOut: imageIn } as const;
  if (config === null || !config.reduceLayers.includes(step) || !(config.pruneRatio > 0)) return none;
  const pruneCount = roundHalfEven(config.pruneRatio * imageIn);
  const keep = Math.max(imageIn - pruneCount, 1);
  const mergeCount = roundHalfEven(config.mergeRatio * imageIn);
  const imageReduced = mergeCount > 0;
  const imageMergeR = imageReduced ? Math.min(mergeCount, mergeLimit(keep, true)) : 0;
  const textCount = roundHalfEven(config.textMergeRatio * textIn);
  const textMergeR = Math.min(textCount, mergeLimit(textIn, true));
  return {
    kind: 'pumer',
    textIn,
    imageIn,
    pruneCount,
    keep,
    imageReduced,
    imageMergeR,
    textMergeR,
    textOut: textIn - textMergeR,
    imageOut: imageReduced ? keep - imageMergeR : imageIn,
  };
}

/**
 * The authors' `reduce_layers` for METER are layer indices 2s of step s; odd ones and those past the last step
 * never match a step, exactly as in their code. Returns the step indices.
 */
export function meterStepsFromLayerIndices(layerIdx: readonly number[], numSteps: number): number[] {
  const steps = new Set<number>();
  for (const l of layerIdx)
    if (Number.isInteger(l) && l >= 0 && l % 2 === 0 && l / 2 < numSteps) steps.add(l / 2);
  return [...steps].sort((a, b) => a - b);
}
