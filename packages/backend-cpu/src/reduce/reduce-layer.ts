import {
  layerMergeDecision,
  intTensor,
  type LayerPlan,
  type LayerTrace,
  MERGE_STYLE_RULES,
  mergeStyleRule,
  type ReductionConfig,
  saliencyRule,
} from '@pumer/core';
import type { AttentionArrays } from '../ops/attention.js';
import { toFloatTensor } from '../ops/arrays.js';
import { mergeTokens, mergeTokensWithMask } from './merge.js';
import { gatherRows, joinTextImage, sliceRows } from './rows.js';
import { selectTop } from './prune.js';
import { saliencyScores } from './saliency.js';
import { trainingFreeReduce } from './training-free.js';

/**
 * The reduce step of one block (docs/reducers.md, "The layer plan"), twin of @pumer/onnx's `reduceLayer`:
 * what it does comes from core's layer plan, how from core's rule tables.
 */

/** A block's tokens between attention and MLP: states [B, N, D] and mask [B, N], float64. */
export interface LayerTokens {
  readonly B: number;
  readonly D: number;
  readonly numHeads: number;
  readonly x: Float64Array;
  readonly mask: Float64Array;
}

export interface ReducedLayer {
  readonly x: Float64Array;
  readonly mask: Float64Array;
  readonly textLen: number;
  /** Tokens per example after the step. */
  readonly n: number;
  readonly trace: LayerTrace;
}

/**
 * PuMer's reduce step as the plan says: `pumer` prunes the image tokens by text saliency, merges the kept ones
 * in the schedule's style and merges the text with ToMe; the `tome` baseline merges all tokens with ToMe;
 * `none` passes them through.
 */
export function reduceLayer(
  plan: LayerPlan,
  config: ReductionConfig | null,
  layer: number,
  tokens: LayerTokens,
  attn: AttentionArrays,
): ReducedLayer {
  const { B, D, numHeads, x, mask } = tokens;
  const hd = D / numHeads;
  const T = plan.textIn;
  const I = plan.imageIn;
  const N = T + I;
  const counts = { textIn: T, imageIn: I, textOut: plan.textOut, imageOut: plan.imageOut };
  switch (plan.kind) {
    case 'none':
      return { x, mask, textLen: T, n: N, trace: { layer, kind: plan.kind, ...counts } };
    case 'pumer': {
      const cfg = config!;
      if (cfg.trainingFree) return trainingFreeReduce(plan, cfg, layer, tokens, attn);
      const textMask = sliceRows(mask, B, N, 1, 0, T);
      const saliency = saliencyScores(saliencyRule(cfg.saliency), {
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
      const { keep } = plan;
      const top = selectTop(saliency, B, I, keep);
      const imageRule = mergeStyleRule(cfg.mergeStyle);
      const image = mergeTokens(layerMergeDecision(imageRule, plan.imageMergeR), {
        B,
        n: keep,
        D,
        x: gatherRows(x, B, N, D, T, top.idx, keep),
        metric: imageRule.reads.metric ? gatherRows(attn.kbar, B, N, hd, T, top.idx, keep) : null,
        C: hd,
        saliency: top.values,
        size: null,
      });
      const text = mergeTokensWithMask(
        layerMergeDecision(MERGE_STYLE_RULES.tome, plan.textMergeR),
        {
          B,
          n: T,
          D,
          x: sliceRows(x, B, N, D, 0, T),
          metric: sliceRows(attn.kbar, B, N, hd, 0, T),
          C: hd,
          saliency: null,
          size: null,
        },
        textMask,
      );
      const tOut = plan.textOut;
      const iOut = plan.imageOut;
      // The merged image tokens are all real: mask 1.
      const joined = joinTextImage(B, D, tOut, iOut, text.x, text.mask, image.x, null);
      return {
        x: joined.x,
        mask: joined.mask,
        textLen: tOut,
        n: tOut + iOut,
        trace: {
          layer,
          kind: plan.kind,
          ...counts,
          imageSaliency: toFloatTensor(saliency, [B, I]),
          keepIdx: intTensor(top.idx, [B, keep]),
          imageDst: intTensor(image.map.dst, [B, keep]),
          textDst: intTensor(text.map.dst, [B, T]),
        },
      };
    }
    default: {
      // The ToMe baseline: ToMe over all N tokens on Kbar, token 0 protected, states and mask size-weighted.
      const merged = mergeTokensWithMask(
        layerMergeDecision(MERGE_STYLE_RULES.tome, plan.tomeR),
        { B, n: N, D, x, metric: attn.kbar, C: hd, saliency: null, size: null },
        mask,
      );
      return {
        x: merged.x,
        mask: merged.mask,
        textLen: plan.textOut,
        n: merged.map.nOut,
        trace: { layer, kind: plan.kind, ...counts, tokenDst: intTensor(merged.map.dst, [B, N]) },
      };
    }
  }
}
