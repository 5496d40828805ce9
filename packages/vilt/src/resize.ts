import { PumerError } from '@pumer/core';

/**
 * Image resampling bit for bit as Pillow's `Image.resize` does it for 8-bit images (libImaging/Resample.c,
 * what ViltImageProcessor runs through): separable, each output pixel a normalised kernel sum over the input
 * pixels its footprint covers, the kernel widened by the scale when shrinking (antialiasing); weights in
 * 22-bit fixed point, a horizontal pass rounded and clipped to 8 bits, then a vertical pass likewise. A pass
 * whose size does not change is skipped, as in Pillow.
 */

/** Pillow's resample codes, as preprocessor_config.json stores them. */
export const RESAMPLE = { nearest: 0, lanczos: 1, bilinear: 2, bicubic: 3, box: 4, hamming: 5 } as const;

interface Filter {
  readonly support: number;
  weight(x: number): number;
}

const BICUBIC_A = -0.5; // Pillow's bicubic constant
const F054 = Math.fround(0.54); // Pillow's hamming window uses float literals (0.54f, 0.46f)
const F046 = Math.fround(0.46);

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

const FILTERS: Record<number, Filter> = {
  [RESAMPLE.box]: { support: 0.5, weight: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  [RESAMPLE.bilinear]: {
    support: 1,
    weight: (x) => {
      const a = Math.abs(x);
      return a < 1 ? 1 - a : 0;
    },
  },
  [RESAMPLE.hamming]: {
    support: 1,
    weight: (x) => {
      const a = Math.abs(x);
      if (a === 0) return 1;
      if (a >= 1) return 0;
      const px = a * Math.PI;
      return (Math.sin(px) / px) * (F054 + F046 * Math.cos(px));
    },
  },
  [RESAMPLE.bicubic]: {
    support: 2,
    weight: (x) => {
      const a = Math.abs(x);
      if (a < 1) return ((BICUBIC_A + 2) * a - (BICUBIC_A + 3)) * a * a + 1;
      if (a < 2) return (((a - 5) * a + 8) * a - 4) * BICUBIC_A;
      return 0;
    },
  },
  [RESAMPLE.lanczos]: { support: 3, weight: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

/** 32 bits minus 8 for the result minus 2 for overflow of negative lobes: Pillow's PRECISION_BITS. */
const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

interface Taps {
  /** First input index per output. */
  readonly start: Int32Array;
  /** Number of inputs per output. */
  readonly count: Int32Array;
  /** Fixed-point weights, `stride` per output. */
  readonly weights: Int32Array;
  readonly stride: number;
}

/** Pillow's precompute_coeffs followed by normalize_coeffs_8bpc (box = the whole input). */
function computeTaps(inSize: number, outSize: number, filter: Filter): Taps {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const stride = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * stride);
  const k = new Float64Array(stride);
  const ss = 1 / filterScale; // Pillow multiplies by the reciprocal: the last bit matters
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const n = Math.min(Math.trunc(center + support + 0.5), inSize) - lo;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const w = filter.weight((i + lo - center + 0.5) * ss);
      k[i] = w;
      total += w;
    }
    for (let i = 0; i < n; i++) {
      const w = total !== 0 ? k[i] / total : k[i];
      // C's (int) cast truncates toward zero, after rounding half away from zero.
      weights[o * stride + i] = Math.trunc(w < 0 ? -0.5 + w * ONE : 0.5 + w * ONE);
    }
    start[o] = lo;
    count[o] = n;
  }
  return { start, count, weights, stride };
}

/** Pillow's clip8: drop the fraction (arithmetic shift), clamp to 0..255. */
function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS;
  return Math.max(0, Math.min(v, 255));
}

/** Resamples along rows: [height, width, c] to [height, outWidth, c]. */
function horizontalPass(
  src: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  channels: number,
  taps: Taps,
  outWidth: number,
): Uint8Array {
  const out = new Uint8Array(height * outWidth * channels);
  const { start, count, weights, stride } = taps;
  for (let y = 0; y < height; y++) {
    const row = y * width * channels;
    for (let x = 0; x < outWidth; x++) {
      const first = row + start[x] * channels;
      const kx = x * stride;
      for (let c = 0; c < channels; c++) {
        let acc = HALF;
        for (let i = 0; i < count[x]; i++) acc += src[first + i * channels + c] * weights[kx + i];
        out[(y * outWidth + x) * channels + c] = clip8(acc);
      }
    }
  }
  return out;
}

/** Resamples along columns: [height, width, c] to [outHeight, width, c]. */
function verticalPass(
  src: Uint8Array | Uint8ClampedArray,
  width: number,
  channels: number,
  taps: Taps,
  outHeight: number,
): Uint8Array {
  const rowLen = width * channels;
  const out = new Uint8Array(outHeight * rowLen);
  const { start, count, weights, stride } = taps;
  for (let y = 0; y < outHeight; y++) {
    const ky = y * stride;
    const first = start[y] * rowLen;
    for (let j = 0; j < rowLen; j++) {
      let acc = HALF;
      for (let i = 0; i < count[y]; i++) acc += src[first + i * rowLen + j] * weights[ky + i];
      out[y * rowLen + j] = clip8(acc);
    }
  }
  return out;
}

/** Nearest neighbour: the input pixel under each output pixel's centre. */
function nearest(
  src: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
): Uint8Array {
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

/**
 * Resizes interleaved 8-bit pixels ([h, w, c]) to outHeight x outWidth with a Pillow resample code. Channels
 * are resampled independently (Pillow premultiplies alpha for RGBA images; ViLT's inputs are RGB, so the
 * alpha channel, if any, is only carried along). Nearest is the centre-sampling rule, not Pillow's
 * affine-transform code path.
 */
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
  if (resample === RESAMPLE.nearest) return nearest(src, width, height, channels, outWidth, outHeight);
  const filter = FILTERS[resample];
  if (!filter) {
    throw new PumerError(
      'IMAGE',
      `unsupported resample mode ${resample} (supported: 0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming)`,
    );
  }
  let pixels = src;
  if (outWidth !== width) {
    pixels = horizontalPass(pixels, width, height, channels, computeTaps(width, outWidth, filter), outWidth);
  }
  if (outHeight !== height) {
    pixels = verticalPass(pixels, outWidth, channels, computeTaps(height, outHeight, filter), outHeight);
  }
  return pixels instanceof Uint8Array ? pixels : Uint8Array.from(pixels);
}
