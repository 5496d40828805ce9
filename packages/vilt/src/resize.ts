import { PumerError } from '@pumer/core';

/**
 * Separable image resampling the way Pillow does it (what ViltImageProcessor runs through): each output
 * pixel is a normalised kernel sum over the input pixels its footprint covers, the kernel widened by the
 * scale when shrinking (antialiasing); a horizontal pass then a vertical pass, each rounded back to 8 bits.
 */

/** Pillow's resample codes, as preprocessor_config.json stores them. */
export const RESAMPLE = { nearest: 0, lanczos: 1, bilinear: 2, bicubic: 3 } as const;

interface Filter {
  readonly support: number;
  weight(x: number): number;
}

const BICUBIC_A = -0.5; // Pillow's bicubic constant

const FILTERS: Record<number, Filter> = {
  [RESAMPLE.bilinear]: { support: 1, weight: (x) => Math.max(0, 1 - Math.abs(x)) },
  [RESAMPLE.bicubic]: {
    support: 2,
    weight: (x) => {
      const a = Math.abs(x);
      if (a < 1) return ((BICUBIC_A + 2) * a - (BICUBIC_A + 3)) * a * a + 1;
      if (a < 2) return (((a - 5) * a + 8) * a - 4) * BICUBIC_A;
      return 0;
    },
  },
  [RESAMPLE.lanczos]: {
    support: 3,
    weight: (x) => {
      const sinc = (v: number) => (v === 0 ? 1 : Math.sin(Math.PI * v) / (Math.PI * v));
      return x > -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0;
    },
  },
};

interface Taps {
  readonly start: Int32Array;
  readonly count: Int32Array;
  readonly weights: Float64Array;
  readonly width: number; // taps reserved per output
}

function computeTaps(inSize: number, outSize: number, filter: Filter): Taps {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const width = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * width);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const hi = Math.min(Math.trunc(center + support + 0.5), inSize);
    let total = 0;
    for (let i = lo; i < hi; i++) {
      const w = filter.weight((i - center + 0.5) / filterScale);
      weights[o * width + (i - lo)] = w;
      total += w;
    }
    if (total !== 0) for (let i = 0; i < hi - lo; i++) weights[o * width + i] /= total;
    start[o] = lo;
    count[o] = hi - lo;
  }
  return { start, count, weights, width };
}

const clampByte = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));

/** Resizes interleaved 8-bit pixels ([h, w, c]) to outH x outW with a Pillow resample code. */
export function resizePixels(
  src: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
  resample: number,
): Uint8Array {
  if (outWidth === width && outHeight === height) return Uint8Array.from(src);
  if (resample === RESAMPLE.nearest) {
    const out = new Uint8Array(outWidth * outHeight * channels);
    for (let y = 0; y < outHeight; y++) {
      const sy = Math.min(Math.floor(((y + 0.5) * height) / outHeight), height - 1);
      for (let x = 0; x < outWidth; x++) {
        const sx = Math.min(Math.floor(((x + 0.5) * width) / outWidth), width - 1);
        for (let c = 0; c < channels; c++)
          out[(y * outWidth + x) * channels + c] = src[(sy * width + sx) * channels + c];
      }
    }
    return out;
  }
  const filter = FILTERS[resample];
  if (!filter)
    throw new PumerError(
      'IMAGE',
      `unsupported resample mode ${resample} (supported: 0 nearest, 1 lanczos, 2 bilinear, 3 bicubic)`,
    );
  // Horizontal pass: [height, outWidth, c].
  const h = computeTaps(width, outWidth, filter);
  const mid = new Uint8Array(height * outWidth * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < outWidth; x++) {
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let k = 0; k < h.count[x]; k++)
          acc += src[(y * width + h.start[x] + k) * channels + c] * h.weights[x * h.width + k];
        mid[(y * outWidth + x) * channels + c] = clampByte(acc);
      }
    }
  }
  // Vertical pass: [outHeight, outWidth, c].
  const v = computeTaps(height, outHeight, filter);
  const out = new Uint8Array(outHeight * outWidth * channels);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let k = 0; k < v.count[y]; k++)
          acc += mid[((v.start[y] + k) * outWidth + x) * channels + c] * v.weights[y * v.width + k];
        out[(y * outWidth + x) * channels + c] = clampByte(acc);
      }
    }
  }
  return out;
}
