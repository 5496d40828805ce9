import { type FloatTensor, floatTensor, type ViltWeights } from '@pumer/core';
import { layerNormRows } from '../ops/layer-norm.js';
import { linearRows } from '../ops/linear.js';
import { geluInPlace } from '../ops/gelu.js';

/**
 * Everything after the encoder: the final LayerNorm, the pooler (dense + tanh on token 0, the text [CLS])
 * and the VQA classifier fc1 -> LayerNorm -> GELU -> fc2. Returns logits [B, numLabels].
 */
export function viltHead(weights: ViltWeights, hidden: FloatTensor): FloatTensor {
  const [batch, n, d] = hidden.shape as [number, number, number];
  // LayerNorm is per row and only row 0 reaches the pooler, so normalising that row alone is exact.
  const first = new Float32Array(batch * d);
  for (let b = 0; b < batch; b++) first.set(hidden.data.subarray(b * n * d, b * n * d + d), b * d);
  const normed = layerNormRows(first, batch, d, weights.finalNorm);
  const pooled = linearRows(normed, batch, d, weights.pooler);
  for (let i = 0; i < pooled.length; i++) pooled[i] = Math.tanh(pooled[i]);
  const hiddenWidth = weights.classifier.fc1.weight.shape[0];
  const h = linearRows(pooled, batch, d, weights.classifier.fc1);
  const hn = layerNormRows(h, batch, hiddenWidth, weights.classifier.norm);
  geluInPlace(hn);
  const logits = linearRows(hn, batch, hiddenWidth, weights.classifier.fc2);
  return floatTensor(Float32Array.from(logits), [batch, weights.classifier.fc2.weight.shape[0]]);
}
