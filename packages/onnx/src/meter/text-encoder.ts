import type { MeterModel } from '@pumer/core';
import { attr, type GraphBuilder } from '../builder.js';
import { layerNorm } from '../nn.js';
import { range } from '../reduce/rank.js';
import { crossLayerAttention, crossLayerFeedForward } from './cross-layer.js';

/** float32's lowest value: RoBERTa's additive key mask, (1 - m_j) * min. */
const FLOAT32_MIN = -3.4028234663852886e38;

/**
 * METER's RoBERTa text encoder as graph values, twin of @pumer/backend-cpu's meter/text-encoder.ts
 * (docs/meter.md, "Text encoder"): input ids int32 [B, T] and the 0/1 mask [B, T] -> hidden states [B, T, Dt]
 * (no pooler, before METER's cross_modal_text_transform).
 * Position ids as RoBERTa makes them: (non-pad ids up to i) * [id_i != pad] + pad, computed in the graph with a
 * triangular MatMul (no CumSum, no int64); word + position + token type 0, LayerNorm; then post-LN BERT layers
 * with the additive key mask and a plain softmax.
 */
export function textEncoder(
  g: GraphBuilder,
  model: MeterModel,
  inputIds: string,
  attentionMask: string,
  t: number,
): string {
  const geo = model.geometry.text;
  const w = model.weights.textEncoder;
  const d = geo.hiddenSize;
  const eps = geo.layerNormEps;

  // Token ids compared in float (exact for vocabulary sizes below 2^24).
  const isToken = g.sub(
    g.float(1),
    g.cast(g.op('Equal', [g.cast(inputIds, 'float32'), g.float(geo.padTokenId)]), 'float32'),
  ); // [B, T]
  const inclusiveCount = g.floats(
    range(t * t, (k) => (Math.floor(k / t) <= k % t ? 1 : 0)),
    [t, t],
  ); // [j, i]: j <= i
  const positions = g.add(g.mul(g.matmul(isToken, inclusiveCount), isToken), g.float(geo.padTokenId));
  const table = (hint: string, tensor: { shape: readonly number[]; data: Float32Array }) =>
    g.shared(tensor, 'raw', () => g.initializer(hint, 'float32', [...tensor.shape], tensor.data));
  const gather = (tableName: string, idx: string) => g.op('Gather', [tableName, idx], { axis: attr.int(0) });
  const words = gather(table('text.word_embeddings', w.wordEmbeddings), inputIds); // [B, T, Dt]
  const pos = gather(table('text.position_embeddings', w.positionEmbeddings), g.cast(positions, 'int32'));
  const tokenType = g.floats(w.tokenTypeEmbeddings.data.subarray(0, d), [d]);
  let h = layerNorm(g, g.add(g.add(words, pos), tokenType), w.embeddingNorm, 'text.embeddings.norm', eps);

  const keyMask = g.unsqueeze(g.mul(g.sub(g.float(1), attentionMask), g.float(FLOAT32_MIN)), [1, 2]); // [B,1,1,T]
  w.layers.forEach((layer, l) => {
    const hint = `text.layer${l}`;
    g.within(hint, () => {
      const att = crossLayerAttention(
        g,
        layer.attention,
        {
          h,
          nq: t,
          src: null,
          nk: t,
          numHeads: geo.numHeads,
          layerNormEps: eps,
          probabilities: (s) => g.op('Softmax', [g.add(s, keyMask)], { axis: attr.int(-1) }),
        },
        `${hint}.attention`,
      );
      h = crossLayerFeedForward(g, layer.feedForward, att.out, t, eps, `${hint}.ffn`);
    });
  });
  return h;
}
