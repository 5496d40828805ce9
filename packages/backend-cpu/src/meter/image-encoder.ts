import type { BlockWeights, MeterImageEncoderGeometry, MeterImageEncoderWeights } from '@pumer/core';
import type { Floats } from '../ops/arrays.js';
import { attentionArrays, plainSoftmaxRow } from '../ops/attention.js';
import { layerNormRows } from '../ops/layer-norm.js';
import { linearRows } from '../ops/linear.js';

/**
 * METER's image encoder, CLIP's ViT (docs/meter.md, "Image encoder"): a bias-free patch projection, the
 * class embedding first, position embeddings, ln_pre, pre-LN blocks (plain unmasked softmax, QuickGELU), then
 * ln_post on every token. Never reduced. Twin of @pumer/onnx's meter/image-encoder.ts.
 */

/** QuickGELU, CLIP's activation: z·sigmoid(1.702 z). */
export function quickGelu(z: number): number {
  return z / (1 + Math.exp(-1.702 * z));
}

/** One CLIP residual block on x [B, n, W] in place: x += attn(ln_1(x)); x += c_proj(QuickGELU(c_fc(ln_2(x)))). */
function clipBlock(
  x: Float64Array,
  B: number,
  n: number,
  W: number,
  numHeads: number,
  w: BlockWeights,
  eps: number,
): void {
  const rows = B * n;
  const h = layerNormRows(x, rows, W, { ...w.norm1, eps });
  const a = attentionArrays({ B, D: W, numHeads, q: h, Nq: n, kv: h, Nk: n, mask: null }, w, plainSoftmaxRow);
  for (let i = 0; i < x.length; i++) x[i] += a.out[i]!;
  const h2 = layerNormRows(x, rows, W, { ...w.norm2, eps });
  const hidden = linearRows(h2, rows, W, w.fc1);
  for (let i = 0; i < hidden.length; i++) hidden[i] = quickGelu(hidden[i]!);
  const out = linearRows(hidden, rows, w.fc1.weight.shape[0]!, w.fc2);
  for (let i = 0; i < x.length; i++) x[i] += out[i]!;
}

/**
 * The encoder's output [B, (S/p)^2 + 1, W] (float64) for checked pixels [B, 3, S, S]: patches in row-major
 * order after the class embedding.
 */
export function imageEncoder(
  w: MeterImageEncoderWeights,
  g: MeterImageEncoderGeometry,
  pixels: Floats,
  B: number,
): Float64Array {
  const W = g.width;
  const p = g.patchSize;
  const S = g.imageSize;
  const grid = S / p;
  const n = grid * grid + 1;
  const channels = 3;
  const patchLen = channels * p * p;
  const kernel = w.patchProjection.data; // [W, 3, p, p]
  const cls = w.classEmbedding.data;
  const position = w.positionEmbeddings.data;
  const x = new Float64Array(B * n * W);
  const patch = new Float64Array(patchLen);
  for (let b = 0; b < B; b++) {
    const base = b * n * W;
    for (let k = 0; k < W; k++) x[base + k] = cls[k]! + position[k]!;
    for (let py = 0; py < grid; py++) {
      for (let px = 0; px < grid; px++) {
        // The patch in the kernel's (c, ky, kx) order, so each output is one contiguous dot product.
        let j = 0;
        for (let c = 0; c < channels; c++) {
          const plane = (b * channels + c) * S * S;
          for (let ky = 0; ky < p; ky++) {
            const row = plane + (py * p + ky) * S + px * p;
            for (let kx = 0; kx < p; kx++) patch[j++] = pixels[row + kx]!;
          }
        }
        const token = 1 + py * grid + px;
        const o = base + token * W;
        for (let k = 0; k < W; k++) {
          const wo = k * patchLen;
          let acc = 0;
          for (let q = 0; q < patchLen; q++) acc += patch[q]! * kernel[wo + q]!;
          x[o + k] = acc + position[token * W + k]!;
        }
      }
    }
  }
  const rows = B * n;
  const eps = g.layerNormEps;
  const h = layerNormRows(x, rows, W, { ...w.preNorm, eps });
  for (const block of w.blocks) clipBlock(h, B, n, W, g.numHeads, block, eps);
  return layerNormRows(h, rows, W, { ...w.postNorm, eps });
}
