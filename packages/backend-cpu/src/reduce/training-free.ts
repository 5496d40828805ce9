import {
  intTensor,
  type LayerPlan,
  layerMergeDecision,
  MERGE_STYLE_RULES,
  mergeStyleRule,
  type ReductionConfig,
  saliencyRule,
  TRAINING_FREE_SIZE_FLOOR,
  trainingFreeSaliencyRule,
} from '@pumer/core';
import { toFloatTensor } from '../ops/arrays.js';
import type { AttentionArrays } from '../ops/attention.js';
import type { DstMap } from './bipartite.js';
import { mergeRows, mergeTokens, normalizedRows } from './merge.js';
import { selectTop } from './prune.js';
import type { LayerTokens, ReducedLayer } from './reduce-layer.js';
import { saliencyScores } from './saliency.js';
import { gatherRows, joinTextImage, sliceRows } from './rows.js';

/**
 * The reduce step of a `pumer` layer in training-free mode (docs/reducers.md, "Training-free mode"), twin of
 * @pumer/onnx's `trainingFreeReduce`: the layer plan's counts, with sizes carried in the mask (proportional
 * attention through the soft mask), pruned tokens recycled into their most similar kept token, and
 * head-averaged attention saliency (core's training-free rules).
 */

/**
 * Where each of the I image tokens goes among the `keep` kept ones: a kept token to its own rank, a pruned
 * one to the kept token whose key is most similar (cosine; ties: the first in rank order).
 */
function recycleDst(
  keys: Float64Array,
  B: number,
  I: number,
  C: number,
  idx: Int32Array,
  keep: number,
): DstMap {
  const unit = normalizedRows(keys, B * I, C);
  const dst = new Int32Array(B * I).fill(-1);
  for (let b = 0; b < B; b++) {
    for (let k = 0; k < keep; k++) dst[b * I + idx[b * keep + k]!] = k;
    for (let i = 0; i < I; i++) {
      if (dst[b * I + i]! >= 0) continue;
      let best = Number.NEGATIVE_INFINITY;
      let nearest = 0;
      for (let k = 0; k < keep; k++) {
        const io = (b * I + i) * C;
        const ko = (b * I + idx[b * keep + k]!) * C;
        let s = 0;
        for (let c = 0; c < C; c++) s += unit[io + c]! * unit[ko + c]!;
        if (s > best) {
          best = s;
          nearest = k;
        }
      }
      dst[b * I + i] = nearest;
    }
  }
  return { dst, nOut: keep, r: I - keep };
}

export function trainingFreeReduce(
  plan: Extract<LayerPlan, { kind: 'pumer' }>,
  config: ReductionConfig,
  layer: number,
  tokens: LayerTokens,
  attn: AttentionArrays,
): ReducedLayer {
  const { B, D, numHeads, x, mask } = tokens;
  const hd = D / numHeads;
  const T = plan.textIn;
  const I = plan.imageIn;
  const N = T + I;
  const { keep } = plan;
  const textMask = sliceRows(mask, B, N, 1, 0, T);
  const saliency = saliencyScores(trainingFreeSaliencyRule(saliencyRule(config.saliency)), {
    B,
    N,
    T,
    textMask,
    attn: attn.probs,
    numHeads,
    kbar: attn.kbar,
    qbar: attn.qbar,
    headDim: hd,
  });
  const top = selectTop(saliency, B, I, keep);
  const imageKeys = sliceRows(attn.kbar, B, N, hd, T, I);
  const recycled = mergeRows(
    sliceRows(x, B, N, D, T, I),
    B,
    I,
    D,
    recycleDst(imageKeys, B, I, hd, top.idx, keep),
    'size-weighted-mean',
    sliceRows(mask, B, N, 1, T, I),
  );
  const imageRule = mergeStyleRule(config.mergeStyle);
  const image = mergeTokens(layerMergeDecision(imageRule, plan.imageMergeR), {
    B,
    n: keep,
    D,
    x: recycled.x,
    metric: imageRule.reads.metric ? gatherRows(imageKeys, B, I, hd, 0, top.idx, keep) : null,
    C: hd,
    saliency: top.values,
    size: recycled.size,
  });
  // Sizes add up whatever the style's combine: the next layers' attention weighs each token by its size.
  const imageSize = mergeRows(recycled.size!, B, keep, 1, image.map, 'sum').x;
  // Text: ToMe on the keys, states weighted by their mask (padding barely counts), masks summed.
  const text = mergeTokens(layerMergeDecision(MERGE_STYLE_RULES.tome, plan.textMergeR), {
    B,
    n: T,
    D,
    x: sliceRows(x, B, N, D, 0, T),
    metric: sliceRows(attn.kbar, B, N, hd, 0, T),
    C: hd,
    saliency: null,
    size: textMask.map((m) => m + TRAINING_FREE_SIZE_FLOOR),
  });
  const textMaskOut = mergeRows(textMask, B, T, 1, text.map, 'sum').x;
  const tOut = plan.textOut;
  const iOut = plan.imageOut;
  // The image tokens' mask carries their sizes.
  const joined = joinTextImage(B, D, tOut, iOut, text.x, textMaskOut, image.x, imageSize);
  return {
    x: joined.x,
    mask: joined.mask,
    textLen: tOut,
    n: tOut + iOut,
    trace: {
      layer,
      kind: plan.kind,
      textIn: T,
      imageIn: I,
      textOut: tOut,
      imageOut: iOut,
      imageSaliency: toFloatTensor(saliency, [B, I]),
      keepIdx: intTensor(top.idx, [B, keep]),
      imageDst: intTensor(image.map.dst, [B, keep]),
      textDst: intTensor(text.map.dst, [B, T]),
    },
  };
}
