import {
  checkImageGrids,
  type FloatTensor,
  floatTensor,
  type IntTensor,
  interpolatePositionEmbeddings,
  PumerError,
  ShapeError,
  type ViltGeometry,
  type ViltWeights,
} from '@pumer/core';
import { layerNormRows } from '../ops/layer-norm.js';

/**
 * ViLT's two embedding streams (Hugging Face ViltEmbeddings semantics) and the single sequence the encoder
 * reads: text rows first, then the image [CLS] and the patches in row-major order.
 */

/** Text: LayerNorm(word + position + token_type[0]) + modality[0]. Returns [B, T, D]. */
export function embedText(weights: ViltWeights, geometry: ViltGeometry, inputIds: IntTensor): FloatTensor {
  const [batch, textLen] = inputIds.shape as [number, number];
  if (inputIds.shape.length !== 2)
    throw new ShapeError(`inputIds must be [B, T], got [${inputIds.shape.join(', ')}]`);
  if (textLen > geometry.maxTextLength) {
    throw new ShapeError(
      `inputIds has ${textLen} tokens, more than the model's text window of ${geometry.maxTextLength}`,
    );
  }
  const d = geometry.hiddenSize;
  const word = weights.wordEmbeddings.data;
  const pos = weights.textPositionEmbeddings.data;
  const type0 = weights.textTokenTypeEmbeddings.data; // row 0: every ViLT text token has token type 0
  const modality = weights.modalityEmbeddings.data; // row 0: text
  const ids = inputIds.data;
  const out = new Float32Array(batch * textLen * d);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < textLen; t++) {
      const id = ids[b * textLen + t];
      if (!(id >= 0 && id < geometry.vocabSize)) {
        throw new PumerError(
          'VALUE',
          `inputIds[${b}, ${t}] = ${id} is outside the vocabulary [0, ${geometry.vocabSize})`,
        );
      }
      const o = (b * textLen + t) * d;
      for (let k = 0; k < d; k++) out[o + k] = word[id * d + k] + pos[t * d + k] + type0[k];
    }
  }
  const normed = layerNormRows(out, batch * textLen, d, weights.textNorm);
  // The modality embedding is added after the text LayerNorm, as in ViltEmbeddings.forward.
  for (let r = 0; r < batch * textLen; r++)
    for (let k = 0; k < d; k++) out[r * d + k] = normed[r * d + k] + modality[k];
  return floatTensor(out, [batch, textLen, d]);
}

/** The image stream of a batch: its rows and their 0/1 mask (padding tokens of smaller images are 0). */
export interface ImageEmbedding {
  readonly x: FloatTensor; // [B, 1 + L, D]
  readonly mask: FloatTensor; // [B, 1 + L]
}

/**
 * Image, as Hugging Face's ViltEmbeddings.visual_embed: Conv2d patch projection (kernel = stride = patch),
 * the image [CLS] first, then each image's valid patches (core's `checkImageGrids`: the top-left h x w
 * patches its pixel mask covers) in row-major order with the position embeddings bilinearly resized
 * (align_corners=True) to that image's own h x w grid, all + the image's modality row. Every image keeps all its valid
 * patches; L is the batch's largest valid count, and an image with fewer is filled with padding tokens of
 * mask 0: its first non-valid patches in row-major order, with no position embedding (the reference picks
 * them at random; masked, they do not change the unreduced result). Without a mask, L = h*w of the grid.
 * `modalityRow` is the image's modality row: 1, or 2 for NLVR2's second image.
 */
export function embedImage(
  weights: ViltWeights,
  geometry: ViltGeometry,
  pixelValues: FloatTensor,
  pixelMask?: IntTensor,
  modalityRow = 1,
): ImageEmbedding {
  if (pixelValues.shape.length !== 4) {
    throw new ShapeError(`pixelValues must be [B, C, H, W], got [${pixelValues.shape.join(', ')}]`);
  }
  const [batch, channels, height, width] = pixelValues.shape as [number, number, number, number];
  const p = geometry.patchSize;
  if (channels !== geometry.numChannels) {
    throw new ShapeError(`pixelValues has ${channels} channels, the model expects ${geometry.numChannels}`);
  }
  const grids = checkImageGrids(pixelValues, pixelMask, p);
  const { gridW: gw, gridH: gh, patches } = grids;
  const d = geometry.hiddenSize;
  const positions = new Map<string, Float32Array>(); // per valid grid: [1 + h*w, D]
  if (!(modalityRow >= 1 && modalityRow < weights.modalityEmbeddings.shape[0])) {
    throw new ShapeError(
      `image modality row ${modalityRow} is outside the model's ${weights.modalityEmbeddings.shape[0]} modality rows`,
    );
  }
  const modality = weights.modalityEmbeddings.data.subarray(modalityRow * d, (modalityRow + 1) * d);
  const cls = weights.clsToken.data;
  const kernel = weights.patchProjection.weight.data; // [D, C, p, p]
  const bias = weights.patchProjection.bias?.data ?? null;
  const patchLen = channels * p * p;
  const pix = pixelValues.data;
  const tokens = 1 + patches;
  const out = new Float32Array(batch * tokens * d);
  const mask = new Float32Array(batch * tokens);
  const patch = new Float32Array(patchLen);
  for (let b = 0; b < batch; b++) {
    const { h, w } = grids.valid[b];
    const key = `${h}x${w}`;
    let pos = positions.get(key);
    if (!pos) {
      pos = interpolatePositionEmbeddings(weights.imagePositionEmbeddings, h, w).data;
      positions.set(key, pos);
    }
    const base = b * tokens * d;
    for (let k = 0; k < d; k++) out[base + k] = cls[k] + pos[k] + modality[k];
    mask[b * tokens] = 1;
    // Valid patches first (row-major over the image's own grid), then padding patches.
    const order: number[] = [];
    for (let py = 0; py < h; py++) for (let px = 0; px < w; px++) order.push(py * gw + px);
    for (let n = 0; n < gh * gw && order.length < patches; n++) {
      if (Math.floor(n / gw) >= h || n % gw >= w) order.push(n);
    }
    order.forEach((n, i) => {
      const py = Math.floor(n / gw);
      const px = n % gw;
      // Gather the patch in the kernel's (c, ky, kx) order so each output is one contiguous dot product.
      let j = 0;
      for (let c = 0; c < channels; c++) {
        const plane = (b * channels + c) * height * width;
        for (let ky = 0; ky < p; ky++) {
          const row = plane + (py * p + ky) * width + px * p;
          for (let kx = 0; kx < p; kx++) patch[j++] = pix[row + kx];
        }
      }
      const isValid = i < h * w;
      const o = base + (1 + i) * d;
      const po = (1 + i) * d; // valid token i is patch (i / w, i % w) of the image's own grid
      for (let k = 0; k < d; k++) {
        const wo = k * patchLen;
        let acc = bias ? bias[k] : 0;
        for (let q = 0; q < patchLen; q++) acc += patch[q] * kernel[wo + q];
        out[o + k] = acc + (isValid ? pos[po + k] : 0) + modality[k];
      }
      mask[b * tokens + 1 + i] = isValid ? 1 : 0;
    });
  }
  return { x: floatTensor(out, [batch, tokens, d]), mask: floatTensor(mask, [batch, tokens]) };
}

/**
 * Concatenates text [B, T, D] and image [B, I, D] rows, and the text mask with the image mask (ones when
 * absent): ([B, T+I, D], [B, T+I]).
 */
export function joinModalities(
  text: FloatTensor,
  image: FloatTensor,
  attentionMask: IntTensor,
  imageMask?: FloatTensor,
): { x: FloatTensor; mask: FloatTensor } {
  const [batch, textLen, d] = text.shape as [number, number, number];
  const imageLen = image.shape[1];
  if (image.shape[0] !== batch)
    throw new ShapeError(`text has batch ${batch} but the image has batch ${image.shape[0]}`);
  if (
    attentionMask.shape.length !== 2 ||
    attentionMask.shape[0] !== batch ||
    attentionMask.shape[1] !== textLen
  ) {
    throw new ShapeError(
      `attentionMask has shape [${attentionMask.shape.join(', ')}], expected [${batch}, ${textLen}]`,
    );
  }
  const n = textLen + imageLen;
  const x = new Float32Array(batch * n * d);
  const mask = new Float32Array(batch * n);
  for (let b = 0; b < batch; b++) {
    x.set(text.data.subarray(b * textLen * d, (b + 1) * textLen * d), b * n * d);
    x.set(image.data.subarray(b * imageLen * d, (b + 1) * imageLen * d), (b * n + textLen) * d);
    for (let t = 0; t < textLen; t++) {
      const m = attentionMask.data[b * textLen + t];
      if (m !== 0 && m !== 1)
        throw new PumerError('VALUE', `attentionMask[${b}, ${t}] = ${m}; it must be 0 or 1`);
      mask[b * n + t] = m;
    }
    if (imageMask) mask.set(imageMask.data.subarray(b * imageLen, (b + 1) * imageLen), b * n + textLen);
    else mask.fill(1, b * n + textLen, (b + 1) * n);
  }
  return { x: floatTensor(x, [batch, n, d]), mask: floatTensor(mask, [batch, n]) };
}
