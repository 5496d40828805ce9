import {
  type CoAttentionPlan,
  type CoAttentionStepWeights,
  layerMergeDecision,
  MERGE_STYLE_RULES,
  saliencyRule,
} from '@pumer/core';
import type { GraphBuilder } from '../builder.js';
import { range } from '../reduce/rank.js';
import { mergeTokens, mergeTokensWithMask } from '../reduce/merge.js';
import { selectTop } from '../reduce/prune.js';
import type { BlockTrace } from '../reduce/reduce-layer.js';
import { rowGather } from '../reduce/rows.js';
import { saliencyScores } from '../reduce/saliency.js';
import { crossLayerFeedForward, crossLayer, crossLayerAttentions } from './cross-layer.js';

/**
 * One METER co-attention step as graph values, twin of @pumer/backend-cpu's meter/co-attention-step.ts (the same
 * names; docs/meter.md, "Where PuMer acts"): the text layer with PuMer between its cross-attention and its
 * feed-forward, then the image layer on the reduced image tokens and the text layer's output. The counts come
 * from core's `planCoAttentionStep`; the reduce step reuses the ViLT reducer fragments (saliency, selectTop,
 * ToMe merging).
 */

/** The two streams entering a step: states [B, N, D] and masks [B, N]. */
export interface CoAttentionState {
  readonly text: string;
  readonly textMask: string;
  readonly image: string;
  readonly imageMask: string;
}

/** What the text layer's reduce step reads (after its cross-attention, before its feed-forward). */
export interface CoAttentionReduceInputs extends CoAttentionState {
  /** The text layer's cross-attention probabilities [B, H, T, I]. */
  readonly textToImageAttn: string;
  /** The text self-attention keys averaged over heads [B, T, hd] (text merge metric). */
  readonly textKeysMean: string;
  /** The cross-attention keys of the image tokens averaged over heads [B, I, hd] (image merge metric). */
  readonly imageKeysMean: string;
  /** Hidden size D and head size hd (the widths of the rows the kept indices gather). */
  readonly hiddenSize: number;
  readonly headDim: number;
}

/**
 * PuMer inside METER's text layer, as the plan says. `pumer`: saliency = the mean over heads of the text-to-image
 * attention summed over every text row, over the text-mask sum; the `keep` most salient image tokens in
 * descending order; if the image is reduced, ToMe (row 0 protected, size-weighted) on their cross-attention keys,
 * else the image passes unchanged; the text merged by ToMe on its self-attention keys, mask alongside. The
 * schedule's saliency method and merge style are ignored, as by the authors' METER.
 */
export function reduceCoAttention(
  g: GraphBuilder,
  plan: CoAttentionPlan,
  inputs: CoAttentionReduceInputs,
): CoAttentionState & { readonly trace: BlockTrace } {
  const { textMask, image, imageMask } = inputs;
  if (plan.kind === 'none') return { text: inputs.text, textMask, image, imageMask, trace: {} };
  const t = plan.textIn;
  const i = plan.imageIn;
  const saliency = saliencyScores(
    g,
    saliencyRule('mean_head'),
    { textToImage: inputs.textToImageAttn, textMask },
    t,
    t + i,
  );
  const text = mergeTokensWithMask(
    g,
    layerMergeDecision(MERGE_STYLE_RULES.tome, plan.textMergeR),
    { n: t, x: inputs.text, metric: inputs.textKeysMean, saliency: null, size: null },
    textMask,
  );
  const textOut = { text: text.x, textMask: text.mask };
  // The authors compute the pruning and discard it when nothing merges: the image stream passes unchanged.
  if (!plan.imageReduced) return { ...textOut, image, imageMask, trace: { saliency, textDst: text.dst } };
  const top = selectTop(g, saliency, i, plan.keep);
  const kept = rowGather(g, top.idx, i);
  // r' = 0 (keep <= 2, where the authors crash) leaves the kept tokens as they are: pruned, not merged.
  const merged = mergeTokens(g, layerMergeDecision(MERGE_STYLE_RULES.tome, plan.imageMergeR), {
    n: plan.keep,
    x: kept(image, inputs.hiddenSize),
    metric: kept(inputs.imageKeysMean, inputs.headDim),
    saliency: null,
    size: null,
  });
  // The reduced image tokens are all real: a mask of ones [B, imageOut], without a run-time shape.
  const ones = g.floats(
    range(plan.imageOut, () => 1),
    [1, plan.imageOut],
  );
  return {
    ...textOut,
    image: merged.x,
    imageMask: g.add(g.mul(g.slice(top.values, 1, 0, 1), g.float(0)), ones),
    trace: { saliency, keepIdx: top.idx, imageDst: merged.dst, textDst: text.dst },
  };
}

/** Everything one step produces (graph values). */
export interface CoAttentionStepOutput {
  /** The text layer's output x' [B, T', D] and mask [B, T']. */
  readonly text: string;
  readonly textMask: string;
  /** The image tokens after the reduce step (y_r) [B, I', D] and their mask [B, I']. */
  readonly imageReduced: string;
  readonly imageMask: string;
  /** The image layer's output y' [B, I', D]. */
  readonly image: string;
  /** [B, H, T, I], before reduction. */
  readonly textToImageAttn: string;
  /** [B, H, I', T']. */
  readonly imageToTextAttn: string;
  readonly trace: BlockTrace;
}

/**
 * One co-attention step: text layer (self-attention, cross-attention to the image, PuMer, feed-forward), then the
 * image layer on the reduced image tokens attending to the text layer's output with its (possibly fractional)
 * mask. `plan` is core's `planCoAttentionStep` for this step and these token counts.
 */
export function coAttentionStep(
  g: GraphBuilder,
  w: CoAttentionStepWeights,
  state: CoAttentionState,
  plan: CoAttentionPlan,
  numHeads: number,
  layerNormEps: number,
  hint: string,
): CoAttentionStepOutput {
  const textLayer = crossLayerAttentions(
    g,
    w.text,
    { x: state.text, n: plan.textIn, mask: state.textMask },
    { x: state.image, n: plan.imageIn, mask: state.imageMask },
    numHeads,
    layerNormEps,
    `${hint}.text`,
  );
  const outerScope = g.scope;
  // Reduce-step nodes get their own name scope, so a profile separates reducer time from the layers'.
  g.scope = outerScope ? `${outerScope}/reduce` : 'reduce';
  const reduced = reduceCoAttention(g, plan, {
    text: textLayer.x,
    textMask: state.textMask,
    image: state.image,
    imageMask: state.imageMask,
    textToImageAttn: textLayer.crossProbs,
    textKeysMean: textLayer.selfKeysMean,
    imageKeysMean: textLayer.crossKeysMean,
    hiddenSize: w.text.attention.query.weight.shape[0]!,
    headDim: w.text.attention.query.weight.shape[0]! / numHeads,
  });
  g.scope = outerScope;
  const text = crossLayerFeedForward(
    g,
    w.text.feedForward,
    reduced.text,
    plan.textOut,
    layerNormEps,
    `${hint}.text.ffn`,
  );
  const imageLayer = crossLayer(
    g,
    w.image,
    { x: reduced.image, n: plan.imageOut, mask: reduced.imageMask },
    { x: text, n: plan.textOut, mask: reduced.textMask },
    numHeads,
    layerNormEps,
    `${hint}.image`,
  );
  return {
    text,
    textMask: reduced.textMask,
    imageReduced: reduced.image,
    imageMask: reduced.imageMask,
    image: imageLayer.out,
    textToImageAttn: textLayer.crossProbs,
    imageToTextAttn: imageLayer.crossProbs,
    trace: reduced.trace,
  };
}
