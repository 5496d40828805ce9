import { type FloatTensor, floatTensor, type MeterWeights, type ViltHead } from '@pumer/core';
import { linearRows } from '../ops/linear.js';
import { classifierHead, rankHead } from '../vilt/head.js';

/**
 * After the last co-attention step (docs/meter.md, "Pooling and heads"): the two poolers, then the task head,
 * which is ViLT's (`classifierHead`, `rankHead` of vilt/head.ts). Twin of @pumer/onnx's meter/head.ts.
 */

/** Row 0 of each example of [B, n, D] and its pooler: tanh(dense(x[:, 0])) [B, D]. */
function poolFirstRow(
  x: Float64Array,
  B: number,
  n: number,
  D: number,
  w: MeterWeights['textPooler'],
): Float64Array {
  const first = new Float64Array(B * D);
  for (let b = 0; b < B; b++) first.set(x.subarray(b * n * D, b * n * D + D), b * D);
  const pooled = linearRows(first, B, D, w);
  for (let i = 0; i < pooled.length; i++) pooled[i] = Math.tanh(pooled[i]!);
  return pooled;
}

/**
 * One pass's cls_feats [B, 2D]: tanh(textPooler(text row 0)), then tanh(imagePooler(image row 0)). Row 0 of
 * the image is the image CLS, or after an image merge the most salient kept token of the last reducing step.
 */
export function meterPooledFeatures(
  w: MeterWeights,
  B: number,
  D: number,
  text: Float64Array,
  textLen: number,
  image: Float64Array,
  imageLen: number,
): Float64Array {
  const t = poolFirstRow(text, B, textLen, D, w.textPooler);
  const i = poolFirstRow(image, B, imageLen, D, w.imagePooler);
  const out = new Float64Array(B * 2 * D);
  for (let b = 0; b < B; b++) {
    out.set(t.subarray(b * D, (b + 1) * D), b * 2 * D);
    out.set(i.subarray(b * D, (b + 1) * D), b * 2 * D + D);
  }
  return out;
}

/** The head on the passes' features side by side [B, 2D·numImages]: classifier (VQA, VE, NLVR2) or rank. */
export function meterHead(head: ViltHead, clsFeats: FloatTensor): FloatTensor {
  return head.kind === 'rank' ? rankHead(head, clsFeats) : classifierHead(head, clsFeats);
}

/** The passes' features [B, 2D] each, side by side in pass order: [B, 2D·passes] in float32. */
export function concatFeatures(passes: readonly Float64Array[], B: number, width: number): FloatTensor {
  const k = passes.length * width;
  const out = new Float32Array(B * k);
  passes.forEach((p, i) => {
    for (let b = 0; b < B; b++) out.set(p.subarray(b * width, (b + 1) * width), b * k + i * width);
  });
  return floatTensor(out, [B, k]);
}
