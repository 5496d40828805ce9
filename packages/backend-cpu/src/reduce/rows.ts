/**
 * Row gathers of the reduce steps (ViLT's `reduceLayer`, its training-free variant, METER's co-attention step):
 * flat float64 arrays [B, N, C], row-major. Twin of @pumer/onnx's reduce/rows.ts.
 */

/** Rows [from, from+count) of each example of a [B, N, C] array, as [B, count, C]. */
export function sliceRows(
  x: Float64Array,
  B: number,
  N: number,
  C: number,
  from: number,
  count: number,
): Float64Array {
  const out = new Float64Array(B * count * C);
  for (let b = 0; b < B; b++)
    out.set(x.subarray((b * N + from) * C, (b * N + from + count) * C), b * count * C);
  return out;
}

/** Rows `offset + idx[b, k]` of each example of a [B, N, C] array, as [B, K, C]. */
export function gatherRows(
  x: Float64Array,
  B: number,
  N: number,
  C: number,
  offset: number,
  idx: Int32Array,
  K: number,
): Float64Array {
  const out = new Float64Array(B * K * C);
  for (let b = 0; b < B; b++) {
    for (let k = 0; k < K; k++) {
      const src = (b * N + offset + idx[b * K + k]!) * C;
      out.set(x.subarray(src, src + C), (b * K + k) * C);
    }
  }
  return out;
}

/**
 * [text; image] per example: states [B, tOut + iOut, D] and mask [B, tOut + iOut] from the text's states and mask
 * and the image's states and mask (null: every image token has mask 1).
 */
export function joinTextImage(
  B: number,
  D: number,
  tOut: number,
  iOut: number,
  textX: Float64Array,
  textMask: Float64Array,
  imageX: Float64Array,
  imageMask: Float64Array | null,
): { x: Float64Array; mask: Float64Array } {
  const nOut = tOut + iOut;
  const x = new Float64Array(B * nOut * D);
  const mask = new Float64Array(B * nOut).fill(1);
  for (let b = 0; b < B; b++) {
    x.set(textX.subarray(b * tOut * D, (b + 1) * tOut * D), b * nOut * D);
    x.set(imageX.subarray(b * iOut * D, (b + 1) * iOut * D), (b * nOut + tOut) * D);
    mask.set(textMask.subarray(b * tOut, (b + 1) * tOut), b * nOut);
    if (imageMask) mask.set(imageMask.subarray(b * iOut, (b + 1) * iOut), b * nOut + tOut);
  }
  return { x, mask };
}
