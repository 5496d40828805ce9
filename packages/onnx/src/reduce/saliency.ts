import { BackendError, type SaliencyRule } from '@pumer/core';
import type { GraphBuilder } from '../builder.js';

/** What `saliencyScores` reads (which values: the rule's `source`). */
export interface SaliencySources {
  /** Attention probabilities [B, H, N, N] (source `attention`). */
  readonly attn?: string;
  /**
   * Or the text rows' attention to the image tokens alone, [B, H, T, I] (source `attention`; [B, 1, T, I] when
   * already cut to head 0): METER's text layer cross-attention, where text and image are not one sequence, and
   * a ViLT block that slices it before its context product.
   */
  readonly textToImage?: string;
  /** Keys / queries averaged over heads [B, N, hd] (source `keys`; queries when textSide is `queries`). */
  readonly kbar?: string;
  readonly qbar?: string;
  /** Text mask [B, T]; its row sums divide the scores. */
  readonly textMask: string;
}

/**
 * Text saliency of the image tokens, [B, I] (docs/reducers.md, "Text saliency"), divided by each example's
 * text length; twin of @pumer/backend-cpu's `saliencyScores`. What is read and how is the rule's: attention rows
 * of head 0 or the mean over heads, or the text side (keys or queries) dotted with the image keys.
 */
export function saliencyScores(
  g: GraphBuilder,
  rule: SaliencyRule,
  src: SaliencySources,
  t: number,
  n: number,
): string {
  const tLen = g.reduceSum(src.textMask, [1]); // [B, 1]
  let summed: string;
  if (rule.source === 'attention') {
    const attn = src.textToImage ?? src.attn;
    if (!attn) throw new BackendError(`internal: saliency ${rule.method} needs attention probabilities`);
    // Head 0 alone is taken before anything else, so only one head's rows are copied.
    const heads = rule.heads === 'first' ? g.slice(attn, 1, 0, 1) : attn;
    let cross = src.textToImage ? heads : g.slice(g.slice(heads, 2, 0, t), 3, t, n); // [B, H or 1, T, I]
    if (rule.heads === 'mean') cross = g.reduce('ReduceMean', cross, [1]);
    summed = g.reduceSum(cross, [1, 2], false);
  } else {
    const textSide = rule.textSide === 'queries' ? src.qbar : src.kbar;
    if (!textSide || !src.kbar) {
      throw new BackendError(`internal: saliency ${rule.method} needs kbar and its ${rule.textSide} side`);
    }
    const tm = g.slice(textSide, 1, 0, t); // [B, T, hd]
    const vm = g.slice(src.kbar, 1, t, n); // [B, I, hd]
    summed = g.reduceSum(g.matmul(tm, g.transpose(vm, [0, 2, 1])), [1], false);
  }
  return g.div(summed, tLen);
}
