import type { BertAttentionWeights, BertFeedForwardWeights, CrossLayerWeights } from '@pumer/core';
import type { GraphBuilder } from '../builder.js';
import { fusedLinear, gelu, layerNorm, linear, maskHat, softMaskedSoftmax } from '../nn.js';

/**
 * METER's BERT-style layers as graph fragments, twins of @pumer/backend-cpu's meter/cross-layer.ts (the same
 * names; docs/meter.md, "One co-attention step"): post-LN attention sub-layers whose probabilities come from a
 * caller-chosen softmax, the feed-forward sub-layer, and the co-attention layer (the authors' BertCrossLayer) that
 * chains self-attention, cross-attention to the other stream and the feed-forward, with PuMer's soft-masked
 * softmax in both attentions.
 */

/** Token rows [B, N, D] of one stream: the states, how many tokens, and their mask [B, N] (possibly fractional). */
export interface StreamTokens {
  readonly x: string;
  readonly n: number;
  readonly mask: string;
}

/** One attention sub-layer's values. */
export interface CrossLayerAttentionValues {
  /** LN(output.dense(context) + h) [B, Nq, D]. */
  readonly out: string;
  /** Attention probabilities [B, H, Nq, Nk]. */
  readonly probs: string;
  /** The keys averaged over heads [B, Nk, hd] (PuMer's merge metric). */
  readonly keysMean: string;
}

/** Where an attention's keys come from, and how its scores become probabilities. */
export interface CrossLayerAttentionSpec {
  /** Queries' states [B, Nq, D]. */
  readonly h: string;
  readonly nq: number;
  /** Keys' and values' states [B, Nk, D]; null: self-attention (keys from `h`). */
  readonly src: string | null;
  readonly nk: number;
  readonly numHeads: number;
  readonly layerNormEps: number;
  /** Scaled scores [B, H, Nq, Nk] -> probabilities. */
  readonly probabilities: (scores: string) => string;
}

/**
 * A post-LN BERT attention sub-layer: Q from `h`, K and V from `src` (or `h`), heads as contiguous slices of D,
 * scores / sqrt(head_dim) (folded into the query weights), the spec's probabilities, then
 * LN(output.dense(context) + h).
 */
export function crossLayerAttention(
  g: GraphBuilder,
  w: BertAttentionWeights,
  spec: CrossLayerAttentionSpec,
  hint: string,
): CrossLayerAttentionValues {
  const { nq, nk, numHeads } = spec;
  const d = w.query.weight.shape[0];
  const hd = d / numHeads;
  const scale = 1 / Math.sqrt(hd);
  const hRows = g.reshape(spec.h, [-1, d]);
  // [B*N, D] -> [B, H, N, hd]
  const heads = (t: string, n: number) => g.transpose(g.reshape(t, [-1, n, numHeads, hd]), [0, 2, 1, 3]);
  let q: string;
  let k: string;
  let v: string;
  if (spec.src === null) {
    const qkv = fusedLinear(
      g,
      hRows,
      [
        { lw: w.query, scale },
        { lw: w.key, scale: 1 },
        { lw: w.value, scale: 1 },
      ],
      `${hint}.qkv`,
    );
    [q, k, v] = g.split(qkv, 1, [d, d, d]).map((t) => heads(t, nq)) as [string, string, string];
  } else {
    q = heads(fusedLinear(g, hRows, [{ lw: w.query, scale }], `${hint}.q`), nq);
    const kv = fusedLinear(
      g,
      g.reshape(spec.src, [-1, d]),
      [
        { lw: w.key, scale: 1 },
        { lw: w.value, scale: 1 },
      ],
      `${hint}.kv`,
    );
    [k, v] = g.split(kv, 1, [d, d]).map((t) => heads(t, nk)) as [string, string];
  }
  const probs = spec.probabilities(g.matmul(q, g.transpose(k, [0, 1, 3, 2]))); // [B, H, Nq, Nk]
  const ctx = g.reshape(g.transpose(g.matmul(probs, v), [0, 2, 1, 3]), [-1, d]); // [B*Nq, D]
  const out = layerNorm(
    g,
    g.add(linear(g, ctx, w.output, `${hint}.output`, true), hRows),
    w.norm,
    `${hint}.norm`,
    spec.layerNormEps,
  );
  return { out: g.reshape(out, [-1, nq, d]), probs, keysMean: g.reduce('ReduceMean', k, [1], false) };
}

/** BERT's feed-forward sub-layer on x [B, N, D]: LN(output.dense(gelu(intermediate.dense(x))) + x). */
export function crossLayerFeedForward(
  g: GraphBuilder,
  w: BertFeedForwardWeights,
  x: string,
  n: number,
  layerNormEps: number,
  hint: string,
): string {
  const d = w.output.weight.shape[0];
  const rows = g.reshape(x, [-1, d]);
  const hidden = gelu(g, linear(g, rows, w.intermediate, `${hint}.intermediate`, true));
  const out = layerNorm(
    g,
    g.add(linear(g, hidden, w.output, `${hint}.output`, true), rows),
    w.norm,
    `${hint}.norm`,
    layerNormEps,
  );
  return g.reshape(out, [-1, n, d]);
}

/** What the two attentions of a co-attention layer leave for PuMer and the feed-forward. */
export interface CrossLayerAttentionOutput {
  /** a2 = LN(cross-attention output + a1) [B, Nh, D]. */
  readonly x: string;
  /** The self-attention keys averaged over heads [B, Nh, hd] (the text merge's metric). */
  readonly selfKeysMean: string;
  /** The cross-attention probabilities [B, H, Nh, Nsrc]. */
  readonly crossProbs: string;
  /** The cross-attention keys (of `src`) averaged over heads [B, Nsrc, hd] (the image merge's metric). */
  readonly crossKeysMean: string;
}

/**
 * The self-attention (key mask m_h) and the cross-attention to `src` (key mask m_src) of a co-attention layer,
 * both with PuMer's soft-masked softmax and its diagonal rule (query i always sees key i, also across streams;
 * docs/meter.md, "The soft mask across streams").
 */
export function crossLayerAttentions(
  g: GraphBuilder,
  w: CrossLayerWeights,
  h: StreamTokens,
  src: StreamTokens,
  numHeads: number,
  layerNormEps: number,
  hint: string,
): CrossLayerAttentionOutput {
  const selfHat = maskHat(g, h.mask, h.n);
  const self = crossLayerAttention(
    g,
    w.attention,
    {
      h: h.x,
      nq: h.n,
      src: null,
      nk: h.n,
      numHeads,
      layerNormEps,
      probabilities: (s) => softMaskedSoftmax(g, s, selfHat, h.n),
    },
    `${hint}.attention`,
  );
  const crossHat = maskHat(g, src.mask, src.n, h.n);
  const cross = crossLayerAttention(
    g,
    w.crossAttention,
    {
      h: self.out,
      nq: h.n,
      src: src.x,
      nk: src.n,
      numHeads,
      layerNormEps,
      probabilities: (s) => softMaskedSoftmax(g, s, crossHat, src.n),
    },
    `${hint}.crossattention`,
  );
  return {
    x: cross.out,
    selfKeysMean: self.keysMean,
    crossProbs: cross.probs,
    crossKeysMean: cross.keysMean,
  };
}

/** A whole co-attention layer without reduction (METER's image layer): both attentions, then the feed-forward. */
export function crossLayer(
  g: GraphBuilder,
  w: CrossLayerWeights,
  h: StreamTokens,
  src: StreamTokens,
  numHeads: number,
  layerNormEps: number,
  hint: string,
): CrossLayerAttentionOutput & { readonly out: string } {
  const att = crossLayerAttentions(g, w, h, src, numHeads, layerNormEps, hint);
  return { ...att, out: crossLayerFeedForward(g, w.feedForward, att.x, h.n, layerNormEps, `${hint}.ffn`) };
}
