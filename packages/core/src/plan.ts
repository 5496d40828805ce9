import type { ReductionConfig } from './config.js';
import { roundHalfEven } from './rounding.js';

/**
 * What one layer does to the token counts — the single place every backend and the scheduler take their
 * counts from, so they cannot disagree. Follows the reference exactly (DESIGN.md §1):
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

/** Largest r a bipartite merge over n tokens can take: floor((n-1)/2) with a protected row, floor(n/2) without. */
export function mergeLimit(n: number, protectFirst: boolean): number {
  return Math.max(0, Math.floor((n - (protectFirst ? 1 : 0)) / 2));
}

/** The plan of one layer that sees `textIn` text and `imageIn` image tokens (image [CLS] included). */
export function planLayer(
  config: ReductionConfig,
  layer: number,
  textIn: number,
  imageIn: number,
): LayerPlan {
  const none = { kind: 'none', textIn, imageIn, textOut: textIn, imageOut: imageIn } as const;
  if (!config.reduceLayers.includes(layer)) return none;
  const pruneCount = roundHalfEven(config.pruneRatio * imageIn);
  if (pruneCount > 0) {
    const keep = Math.max(imageIn - pruneCount, 1);
    const mergeCount = roundHalfEven(config.mergeRatio * imageIn);
    // tip and tome protect the most salient kept token; diff protects nothing.
    const imageMergeR = Math.min(mergeCount, mergeLimit(keep, config.mergeStyle !== 'diff'));
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
