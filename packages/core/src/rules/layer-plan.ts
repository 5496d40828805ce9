import type { ReductionConfig } from '../config.js';
import { roundHalfEven } from '../rounding.js';
import { mergeLimit, mergeStyleRule, protectsFirst } from './merge-styles.js';

/**
 * What one layer does to the token counts — the single place every backend and the scheduler take their
 * counts from, so they cannot disagree. Follows the reference exactly (docs/reducers.md, "The layer plan"):
 * - `pumer`: prune `pruneCount` image tokens, merge `imageMergeR` of the kept ones, merge `textMergeR` text rows;
 * - `tome`: pruning rounded to zero and an integer merge count is set: ToMe over all N tokens, T unchanged;
 * - `none`: the layer passes its tokens through.
 */
export type LayerPlan =
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
      readonly pruneCount: number;
      readonly keep: number;
      /** Tokens the image merge removes (already clamped by the merge style's limit). */
      readonly imageMergeR: number;
      /** Tokens the text merge removes (already clamped). */
      readonly textMergeR: number;
      readonly textOut: number;
      readonly imageOut: number;
    }
  | {
      readonly kind: 'tome';
      readonly textIn: number;
      readonly imageIn: number;
      /** Tokens ToMe removes from the whole sequence (clamped to floor((N-1)/2)). */
      readonly tomeR: number;
      /** The reference leaves `text_len` unchanged: textOut === textIn and imageOut absorbs the change. */
      readonly textOut: number;
      readonly imageOut: number;
    };

/**
 * The plan of one layer that sees `textIn` text and `imageIn` image tokens (image [CLS] included).
 * `config` null is "no reduction": every layer passes its tokens through.
 */
export function planLayer(
  config: ReductionConfig | null,
  layer: number,
  textIn: number,
  imageIn: number,
): LayerPlan {
  const none = { kind: 'none', textIn, imageIn, textOut: textIn, imageOut: imageIn } as const;
  if (config === null || !config.reduceLayers.includes(layer)) return none;
  const pruneCount = roundHalfEven(config.pruneRatio * imageIn);
  if (pruneCount > 0) {
    const keep = Math.max(imageIn - pruneCount, 1);
    const mergeCount = roundHalfEven(config.mergeRatio * imageIn);
    // In a reduce layer the image merge protects row 0 (the most salient kept token) where its style allows.
    const imageMergeR = Math.min(
      mergeCount,
      mergeLimit(keep, protectsFirst(mergeStyleRule(config.mergeStyle))),
    );
    const textCount = roundHalfEven(config.textMergeRatio * textIn);
    const textMergeR = Math.min(textCount, mergeLimit(textIn, true));
    return {
      kind: 'pumer',
      textIn,
      imageIn,
      pruneCount,
      keep,
      imageMergeR,
      textMergeR,
      textOut: textIn - textMergeR,
      imageOut: keep - imageMergeR,
    };
  }
  const tomeR = Math.min(config.tomeCount ?? 0, mergeLimit(textIn + imageIn, true));
  if (tomeR > 0) return { kind: 'tome', textIn, imageIn, tomeR, textOut: textIn, imageOut: imageIn - tomeR };
  return none;
}
