import type { BertAttentionWeights, BertFeedForwardWeights, CrossLayerWeights } from '@pumer/core';
import type { Floats } from '../ops/arrays.js';
import { attentionArrays, type RowSoftmax, softMaskSoftmax } from '../ops/attention.js';
import { geluInPlace } from '../ops/gelu.js';
import { layerNormRows } from '../ops/layer-norm.js';
import { linearRows } from '../ops/linear.js';

/**
 * METER's co-attention layer (the authors' BertCrossLayer, docs/meter.md, "One co-attention step"): post-LN
 * self-attention, post-LN cross-attention to the other stream, post-LN feed-forward with the exact GELU. Every
 * attention uses the soft-masked softmax of `ops/attention.ts`; the text encoder's RoBERTa layers reuse the
 * same sub-layers with BERT's additive mask. Twin of @pumer/onnx's meter/cross-layer.ts.
 */

/** The sizes every sub-layer shares; `eps` is the LayerNorm eps of the layer's norms. */
export interface LayerDims {
  readonly B: number;
  readonly D: number;
  readonly numHeads: number;
  readonly eps: number;
}

/** A token stream: states [B, n, D] and the mask of its rows as keys [B, n]. */
export interface TokenStream {
  readonly x: Floats;
  readonly n: number;
  readonly mask: Floats;
}

export interface SubLayerOutput {
  /** LN(dense(context) + h) [B, n_h, D]. */
  readonly out: Float64Array;
  /** Probabilities [B, H, n_h, n_src]. */
  readonly probs: Float64Array;
  /** The keys (of `src`) averaged over heads [B, n_src, headDim]. */
  readonly kbar: Float64Array;
}

/**
 * One BERT attention sub-layer: queries from `h`, keys and values from `src` (the same stream for
 * self-attention) under `src`'s key mask, then the output dense, the residual with `h` and the LayerNorm.
 */
export function crossLayerAttention(
  dims: LayerDims,
  h: TokenStream,
  src: TokenStream,
  w: BertAttentionWeights,
  softmax: RowSoftmax = softMaskSoftmax,
): SubLayerOutput {
  const { B, D, numHeads, eps } = dims;
  const a = attentionArrays(
    { B, D, numHeads, q: h.x, Nq: h.n, kv: src.x, Nk: src.n, mask: src.mask },
    { query: w.query, key: w.key, value: w.value, proj: w.output },
    softmax,
  );
  const sum = a.out;
  for (let i = 0; i < sum.length; i++) sum[i] += h.x[i]!;
  return { out: layerNormRows(sum, B * h.n, D, { ...w.norm, eps }), probs: a.probs, kbar: a.kbar };
}

/** BERT's feed-forward sub-layer on `rows` rows of width D: LN(output(gelu(intermediate(x))) + x). */
export function crossLayerFeedForward(
  x: Floats,
  rows: number,
  D: number,
  w: BertFeedForwardWeights,
  eps: number,
): Float64Array {
  const hidden = linearRows(x, rows, D, w.intermediate);
  geluInPlace(hidden);
  const out = linearRows(hidden, rows, w.intermediate.weight.shape[0]!, w.output);
  for (let i = 0; i < out.length; i++) out[i] += x[i]!;
  return layerNormRows(out, rows, D, { ...w.norm, eps });
}

/** What a cross layer's two attentions leave, before its reduce step (text layer) and feed-forward. */
export interface CrossAttentions {
  /** a2 = LN(crossattention(a1, src) + a1) [B, n_h, D]. */
  readonly states: Float64Array;
  /** The self-attention keys of `h` averaged over heads [B, n_h, headDim] (the text merge's metric). */
  readonly selfKeys: Float64Array;
  /** The cross-attention probabilities [B, H, n_h, n_src]. */
  readonly crossProbs: Float64Array;
  /** The cross-attention keys of `src` averaged over heads [B, n_src, headDim] (the image merge's metric). */
  readonly crossKeys: Float64Array;
}

/** Steps 1–2 of a cross layer on (h, src): self-attention under h's mask, cross-attention under src's. */
export function crossLayerAttentions(
  dims: LayerDims,
  h: TokenStream,
  src: TokenStream,
  w: CrossLayerWeights,
): CrossAttentions {
  const self = crossLayerAttention(dims, h, h, w.attention);
  const cross = crossLayerAttention(dims, { x: self.out, n: h.n, mask: h.mask }, src, w.crossAttention);
  return { states: cross.out, selfKeys: self.kbar, crossProbs: cross.probs, crossKeys: cross.kbar };
}

/** A whole cross layer without reduction (the image layer): attentions, then feed-forward. */
export function crossLayer(
  dims: LayerDims,
  h: TokenStream,
  src: TokenStream,
  w: CrossLayerWeights,
): { readonly out: Float64Array; readonly crossProbs: Float64Array } {
  const a = crossLayerAttentions(dims, h, src, w);
  return {
    out: crossLayerFeedForward(a.states, dims.B * h.n, dims.D, w.feedForward, dims.eps),
    crossProbs: a.crossProbs,
  };
}
