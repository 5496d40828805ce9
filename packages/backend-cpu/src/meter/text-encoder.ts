import type { IntTensor, MeterTextEncoderGeometry, MeterTextEncoderWeights } from '@pumer/core';
import { additiveMaskRow } from '../ops/attention.js';
import { layerNormRows } from '../ops/layer-norm.js';
import { crossLayerAttention, crossLayerFeedForward } from './cross-layer.js';

/**
 * METER's text encoder, RoBERTa (docs/meter.md, "Text encoder"): embeddings with RoBERTa's position ids,
 * then post-LN BERT layers whose self-attention masks padding keys additively with float32's minimum and a
 * plain softmax (not PuMer's soft mask). Never reduced. Twin of @pumer/onnx's meter/text-encoder.ts.
 */

/**
 * RoBERTa's position ids [B, T]: a token's id is the count of non-pad tokens up to and including it, plus
 * padTokenId; a pad token gets padTokenId itself. With pad 1: tokens 2, 3, …; pads 1.
 */
export function robertaPositionIds(
  ids: ArrayLike<number>,
  B: number,
  T: number,
  padTokenId: number,
): Int32Array {
  const pos = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    let count = 0;
    for (let t = 0; t < T; t++) {
      const isToken = ids[b * T + t] !== padTokenId;
      if (isToken) count++;
      pos[b * T + t] = isToken ? count + padTokenId : padTokenId;
    }
  }
  return pos;
}

/**
 * The encoder's output [B, T, Dt] (float64) for checked ids and mask [B, T]:
 * LN(word[id] + tokenType[0] + position[pos]), then every layer.
 */
export function textEncoder(
  w: MeterTextEncoderWeights,
  g: MeterTextEncoderGeometry,
  inputIds: IntTensor,
  attentionMask: IntTensor,
): Float64Array {
  const [B, T] = inputIds.shape as [number, number];
  const D = g.hiddenSize;
  const ids = inputIds.data;
  const pos = robertaPositionIds(ids, B, T, g.padTokenId);
  const word = w.wordEmbeddings.data;
  const position = w.positionEmbeddings.data;
  const type0 = w.tokenTypeEmbeddings.data; // row 0: RoBERTa has one token type
  const sum = new Float64Array(B * T * D);
  for (let r = 0; r < B * T; r++) {
    const wo = ids[r]! * D;
    const po = pos[r]! * D;
    for (let k = 0; k < D; k++) sum[r * D + k] = word[wo + k]! + type0[k]! + position[po + k]!;
  }
  let h = layerNormRows(sum, B * T, D, { ...w.embeddingNorm, eps: g.layerNormEps });
  const mask = Float64Array.from(attentionMask.data);
  const dims = { B, D, numHeads: g.numHeads, eps: g.layerNormEps };
  for (const layer of w.layers) {
    const stream = { x: h, n: T, mask };
    const a = crossLayerAttention(dims, stream, stream, layer.attention, additiveMaskRow);
    h = crossLayerFeedForward(a.out, B * T, D, layer.feedForward, g.layerNormEps);
  }
  return h;
}
