import {
  type ClassifierHead,
  type FloatTensor,
  floatTensor,
  type RankHead,
  ShapeError,
  type ViltWeights,
} from '@pumer/core';
import { geluInPlace } from '../ops/gelu.js';
import { layerNormRows } from '../ops/layer-norm.js';
import { linearRows } from '../ops/linear.js';

/**
 * Everything after the encoder (Hugging Face ViltPooler and the task heads). `pooledOutput` is shared by
 * every head; `classifierHead` (VQA, VE, NLVR2) and `rankHead` (retrieval) turn pooled rows into logits.
 * Their ONNX twins in @pumer/onnx's vilt/head.ts have the same names.
 */

/**
 * The final LayerNorm and the pooler (dense + tanh) on token 0, the text [CLS]: hidden [B, N, D] -> [B, D].
 */
export function pooledOutput(weights: ViltWeights, hidden: FloatTensor): FloatTensor {
  const [batch, n, d] = hidden.shape as [number, number, number];
  // LayerNorm is per row and only row 0 reaches the pooler, so normalising that row alone is exact.
  const first = new Float32Array(batch * d);
  for (let b = 0; b < batch; b++) first.set(hidden.data.subarray(b * n * d, b * n * d + d), b * d);
  const normed = layerNormRows(first, batch, d, weights.finalNorm);
  const pooled = linearRows(normed, batch, d, weights.pooler);
  for (let i = 0; i < pooled.length; i++) pooled[i] = Math.tanh(pooled[i]);
  return floatTensor(Float32Array.from(pooled), [batch, d]);
}

/**
 * fc1 -> LayerNorm -> GELU -> fc2 over pooled rows [B, K] (K = D, or numImages * D for NLVR2's images'
 * pooled outputs side by side). Returns logits [B, numLabels].
 */
export function classifierHead(head: ClassifierHead, pooled: FloatTensor): FloatTensor {
  const [batch, k] = pooled.shape as [number, number];
  const [width, inDim] = head.fc1.weight.shape as [number, number];
  if (inDim !== k) {
    throw new ShapeError(`the classifier reads ${inDim} features per row, but the pooled rows have ${k}`);
  }
  const h = linearRows(pooled.data, batch, k, head.fc1);
  const hn = layerNormRows(h, batch, width, head.norm);
  geluInPlace(hn);
  const logits = linearRows(hn, batch, width, head.fc2);
  return floatTensor(Float32Array.from(logits), [batch, head.fc2.weight.shape[0]]);
}

/** rank_output on pooled rows [B, D]: one score per (text, image) pair, [B, 1]. */
export function rankHead(head: RankHead, pooled: FloatTensor): FloatTensor {
  const [batch, d] = pooled.shape as [number, number];
  const score = linearRows(pooled.data, batch, d, head.rank);
  return floatTensor(Float32Array.from(score), [batch, 1]);
}

/** The pooled rows of every image pass side by side, in image order: numImages x [B, D] -> [B, numImages * D]. */
export function concatPooled(passes: readonly FloatTensor[]): FloatTensor {
  const [batch, d] = passes[0].shape as [number, number];
  const k = passes.length * d;
  const out = new Float32Array(batch * k);
  passes.forEach((p, i) => {
    for (let b = 0; b < batch; b++) out.set(p.data.subarray(b * d, (b + 1) * d), b * k + i * d);
  });
  return floatTensor(out, [batch, k]);
}
