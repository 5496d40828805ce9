import { ShapeError } from './errors.js';
import { type FloatTensor, floatTensor } from './tensor.js';

/**
 * Resizes ViLT's patch position embeddings [1 + g*g, D] (row 0 is the image [CLS]) from the trained g×g grid to
 * an h×w patch grid with bilinear interpolation, align_corners=True — what ViLT does when an image's patch
 * grid differs from the one it was trained on. Returns [1 + h*w, D]; the input itself when the grid is unchanged.
 * Lives in core because the CPU forward and the ONNX graph builder (which bakes it into an initializer) share it.
 */
export function interpolatePositionEmbeddings(pos: FloatTensor, h: number, w: number): FloatTensor {
  const [rows, d] = pos.shape as [number, number];
  const g = Math.round(Math.sqrt(rows - 1));
  if (pos.shape.length !== 2 || g * g !== rows - 1) {
    throw new ShapeError(`position embeddings must be [1 + g*g, D], got [${pos.shape.join(', ')}]`);
  }
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1) {
    throw new ShapeError(`patch grid must be positive integers, got ${h}x${w}`);
  }
  if (h === g && w === g) return pos;
  const src = pos.data;
  const out = new Float32Array((1 + h * w) * d);
  out.set(src.subarray(0, d), 0);
  // align_corners=True: output index i maps to input coordinate i * (g - 1) / (n - 1).
  const coord = (i: number, n: number) => (n === 1 ? 0 : (i * (g - 1)) / (n - 1));
  for (let y = 0; y < h; y++) {
    const fy = coord(y, h);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, g - 1);
    const ty = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = coord(x, w);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, g - 1);
      const tx = fx - x0;
      const o = (1 + y * w + x) * d;
      const a = (1 + y0 * g + x0) * d;
      const b = (1 + y0 * g + x1) * d;
      const c = (1 + y1 * g + x0) * d;
      const e = (1 + y1 * g + x1) * d;
      for (let k = 0; k < d; k++) {
        const top = src[a + k] * (1 - tx) + src[b + k] * tx;
        const bottom = src[c + k] * (1 - tx) + src[e + k] * tx;
        out[o + k] = top * (1 - ty) + bottom * ty;
      }
    }
  }
  return floatTensor(out, [1 + h * w, d]);
}
