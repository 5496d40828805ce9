import {
  type CoAttentionPlan,
  type CoAttentionStepWeights,
  intTensor,
  type LayerTrace,
  layerMergeDecision,
  MERGE_STYLE_RULES,
  SALIENCY_RULES,
} from '@pumer/core';
import { toFloatTensor } from '../ops/arrays.js';
import { mergeTokens, mergeTokensWithMask } from '../reduce/merge.js';
import { selectTop } from '../reduce/prune.js';
import { gatherRows } from '../reduce/rows.js';
import { saliencyScores } from '../reduce/saliency.js';
import { crossLayer, crossLayerAttentions, crossLayerFeedForward, type LayerDims } from './cross-layer.js';

/**
 * One METER co-attention step (docs/meter.md, "One co-attention step"): the text layer with PuMer between its
 * cross-attention and its feed-forward, then the image layer on the reduced image tokens, attending to the text
 * layer's output under its (possibly merged, fractional) mask. Twin of @pumer/onnx's meter/co-attention-step.ts.
 */

/** What the text layer's reduce step reads: both streams between cross-attention and feed-forward. */
export interface CoAttentionTokens {
  readonly B: number;
  readonly D: number;
  readonly numHeads: number;
  /** The text layer's a2 [B, T, D] and the text mask [B, T] (possibly fractional). */
  readonly text: Float64Array;
  readonly textMask: Float64Array;
  /** The image tokens the text layer attended to [B, I, D] and their mask [B, I]. */
  readonly image: Float64Array;
  readonly imageMask: Float64Array;
  /** The text layer's self-attention keys averaged over heads [B, T, headDim]. */
  readonly textKeys: Float64Array;
  /** Its cross-attention keys (of the image tokens) averaged over heads [B, I, headDim]. */
  readonly imageKeys: Float64Array;
  /** Its cross-attention probabilities [B, H, T, I]. */
  readonly textToImage: Float64Array;
}

export interface ReducedCoAttention {
  readonly text: Float64Array;
  readonly textMask: Float64Array;
  readonly image: Float64Array;
  readonly imageMask: Float64Array;
  readonly trace: LayerTrace;
}

/**
 * PuMer inside the text layer, as core's `planCoAttentionStep` says (docs/meter.md, "Where PuMer acts"): the
 * mean-head cross-attention saliency of every image token, the `keep` most salient in descending order, ToMe
 * on their cross-attention keys (row 0 — the most salient — protected, size-weighted), and ToMe on the text's
 * self-attention keys with the mask merged alongside. A merge count of 0 leaves the image stream unchanged.
 * The schedule's saliency method and merge style are not read: the authors' METER ignores them.
 */
export function reduceCoAttention(
  plan: CoAttentionPlan,
  step: number,
  t: CoAttentionTokens,
): ReducedCoAttention {
  const { B, D, numHeads } = t;
  const hd = D / numHeads;
  const T = plan.textIn;
  const I = plan.imageIn;
  const counts = { textIn: T, imageIn: I, textOut: plan.textOut, imageOut: plan.imageOut };
  if (plan.kind === 'none') {
    const trace: LayerTrace = { layer: step, kind: 'none', ...counts };
    return { text: t.text, textMask: t.textMask, image: t.image, imageMask: t.imageMask, trace };
  }
  const saliency = saliencyScores(SALIENCY_RULES.mean_head, {
    B,
    N: T + I,
    T,
    textMask: t.textMask,
    attn: t.textToImage,
    attnLayout: 'text-to-image',
    numHeads,
  });
  const text = mergeTokensWithMask(
    layerMergeDecision(MERGE_STYLE_RULES.tome, plan.textMergeR),
    { B, n: T, D, x: t.text, metric: t.textKeys, C: hd, saliency: null, size: null },
    t.textMask,
  );
  const trace: LayerTrace = {
    layer: step,
    kind: 'pumer',
    ...counts,
    imageSaliency: toFloatTensor(saliency, [B, I]),
    textDst: intTensor(text.map.dst, [B, T]),
  };
  if (!plan.imageReduced) {
    // The authors compute the pruning and discard it: the image stream passes unchanged.
    return { text: text.x, textMask: text.mask, image: t.image, imageMask: t.imageMask, trace };
  }
  const { keep } = plan;
  const top = selectTop(saliency, B, I, keep);
  // r' = 0 (keep <= 2, where the authors crash) leaves the kept tokens as they are: pruned, not merged.
  const image = mergeTokens(layerMergeDecision(MERGE_STYLE_RULES.tome, plan.imageMergeR), {
    B,
    n: keep,
    D,
    x: gatherRows(t.image, B, I, D, 0, top.idx, keep),
    metric: gatherRows(t.imageKeys, B, I, hd, 0, top.idx, keep),
    C: hd,
    saliency: null,
    size: null,
  });
  return {
    text: text.x,
    textMask: text.mask,
    image: image.x,
    imageMask: new Float64Array(B * plan.imageOut).fill(1),
    trace: {
      ...trace,
      keepIdx: intTensor(top.idx, [B, keep]),
      imageDst: intTensor(image.map.dst, [B, keep]),
    },
  };
}

/** One step's inputs, checked: text [B, T, D] and image [B, I, D] with their masks, all float32 or float64. */
export interface CoAttentionStepInputs {
  readonly dims: LayerDims;
  readonly weights: CoAttentionStepWeights;
  readonly plan: CoAttentionPlan;
  readonly step: number;
  readonly text: Float64Array | Float32Array;
  readonly textMask: Float64Array | Float32Array;
  readonly image: Float64Array | Float32Array;
  readonly imageMask: Float64Array | Float32Array;
}

/** One step's outputs as float64 arrays (sizes in the plan: textOut, imageOut). */
export interface CoAttentionStepArrays {
  /** x' [B, T', D] and m_t' [B, T']. */
  readonly text: Float64Array;
  readonly textMask: Float64Array;
  /** y_r [B, I', D] and m_i' [B, I']. */
  readonly imageReduced: Float64Array;
  readonly imageMask: Float64Array;
  /** y' [B, I', D]. */
  readonly image: Float64Array;
  /** The text layer's cross-attention [B, H, T, I], before reduction. */
  readonly textToImageAttn: Float64Array;
  /** The image layer's cross-attention [B, H, I', T']. */
  readonly imageToTextAttn: Float64Array;
  readonly trace: LayerTrace;
}

/** Text layer (PuMer inside), then image layer on the reduced image with the merged text mask. */
export function coAttentionStep(s: CoAttentionStepInputs): CoAttentionStepArrays {
  const { dims, plan, weights } = s;
  const T = plan.textIn;
  const I = plan.imageIn;
  const textIn = { x: s.text, n: T, mask: s.textMask };
  const imageIn = { x: s.image, n: I, mask: s.imageMask };
  const a = crossLayerAttentions(dims, textIn, imageIn, weights.text);
  const reduced = reduceCoAttention(plan, s.step, {
    B: dims.B,
    D: dims.D,
    numHeads: dims.numHeads,
    text: a.states,
    textMask: Float64Array.from(s.textMask),
    image: Float64Array.from(s.image),
    imageMask: Float64Array.from(s.imageMask),
    textKeys: a.selfKeys,
    imageKeys: a.crossKeys,
    textToImage: a.crossProbs,
  });
  const tOut = plan.textOut;
  const iOut = plan.imageOut;
  const text = crossLayerFeedForward(reduced.text, dims.B * tOut, dims.D, weights.text.feedForward, dims.eps);
  const image = crossLayer(
    dims,
    { x: reduced.image, n: iOut, mask: reduced.imageMask },
    { x: text, n: tOut, mask: reduced.textMask },
    weights.image,
  );
  return {
    text,
    textMask: reduced.textMask,
    imageReduced: reduced.image,
    imageMask: reduced.imageMask,
    image: image.out,
    textToImageAttn: a.crossProbs,
    imageToTextAttn: image.crossProbs,
    trace: reduced.trace,
  };
}
