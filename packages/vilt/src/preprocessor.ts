import { type FloatTensor, floatTensor, PumerError } from '@pumer/core';
import { checkDecodedImage, type DecodedImage } from './image.js';
import { RESAMPLE, resizePixels } from './resize.js';

/**
 * ViltImageProcessor as preprocessor_config.json describes it: resize so the shorter side is
 * `shortest_edge` with the longer side capped at 1333/800 of it, both sides floored to `size_divisor`;
 * rescale by 1/255; normalise by mean and std. Output: float32 [C, H, W].
 */
export interface ImageProcessorConfig {
  readonly doResize: boolean;
  readonly shortestEdge: number;
  readonly sizeDivisor: number;
  readonly resample: number;
  readonly doRescale: boolean;
  readonly rescaleFactor: number;
  readonly doNormalize: boolean;
  readonly imageMean: readonly number[];
  readonly imageStd: readonly number[];
}

/** ViltImageProcessor's defaults, for fields a preprocessor_config.json leaves out. */
export const VILT_PROCESSOR_DEFAULTS: ImageProcessorConfig = Object.freeze({
  doResize: true,
  shortestEdge: 384,
  sizeDivisor: 32,
  resample: RESAMPLE.bicubic,
  doRescale: true,
  rescaleFactor: 1 / 255,
  doNormalize: true,
  imageMean: Object.freeze([0.5, 0.5, 0.5]),
  imageStd: Object.freeze([0.5, 0.5, 0.5]),
});

function bad(source: string, field: string, message: string): PumerError {
  return new PumerError('CONFIG', `${source}: field "${field}" ${message}`);
}

export function parsePreprocessorConfig(
  json: unknown,
  source = 'preprocessor_config.json',
): ImageProcessorConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new PumerError('CONFIG', `${source}: expected a JSON object`);
  const c = json as Record<string, unknown>;
  const d = VILT_PROCESSOR_DEFAULTS;
  const bool = (field: string, fallback: boolean): boolean => {
    const v = c[field] ?? fallback;
    if (typeof v !== 'boolean') throw bad(source, field, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  };
  const positiveInt = (field: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
      throw bad(source, field, `must be a positive integer, got ${JSON.stringify(v)}`);
    return v;
  };
  const triple = (field: string, fallback: readonly number[], positive: boolean): number[] => {
    const v = c[field] ?? fallback;
    if (
      !Array.isArray(v) ||
      v.length !== 3 ||
      !v.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0))
    ) {
      throw bad(
        source,
        field,
        `must be 3 ${positive ? 'positive ' : ''}numbers (one per RGB channel), got ${JSON.stringify(v)}`,
      );
    }
    return v as number[];
  };
  const size = c['size'] ?? { shortest_edge: d.shortestEdge };
  if (size === null || typeof size !== 'object' || !('shortest_edge' in size)) {
    throw bad(
      source,
      'size',
      `must be {"shortest_edge": n} (ViltImageProcessor), got ${JSON.stringify(size)}`,
    );
  }
  const resample = c['resample'] ?? d.resample;
  if (!(Object.values(RESAMPLE) as unknown[]).includes(resample)) {
    throw bad(
      source,
      'resample',
      `must be 0 (nearest), 1 (lanczos), 2 (bilinear) or 3 (bicubic), got ${JSON.stringify(resample)}`,
    );
  }
  const rescaleFactor = c['rescale_factor'] ?? d.rescaleFactor;
  if (typeof rescaleFactor !== 'number' || !Number.isFinite(rescaleFactor)) {
    throw bad(source, 'rescale_factor', `must be a number, got ${JSON.stringify(rescaleFactor)}`);
  }
  return {
    doResize: bool('do_resize', d.doResize),
    shortestEdge: positiveInt('size.shortest_edge', (size as Record<string, unknown>)['shortest_edge']),
    sizeDivisor: positiveInt('size_divisor', c['size_divisor'] ?? d.sizeDivisor),
    resample: resample as number,
    doRescale: bool('do_rescale', d.doRescale),
    rescaleFactor,
    doNormalize: bool('do_normalize', d.doNormalize),
    imageMean: triple('image_mean', d.imageMean, false),
    imageStd: triple('image_std', d.imageStd, true),
  };
}

/** The (height, width) ViltImageProcessor resizes an image to (its get_resize_output_image_size). */
export function viltResizeTarget(
  height: number,
  width: number,
  shortestEdge: number,
  sizeDivisor: number,
): { height: number; width: number } {
  const longest = Math.trunc((1333 / 800) * shortestEdge);
  const scale = shortestEdge / Math.min(height, width);
  let h = height < width ? shortestEdge : scale * height;
  let w = height < width ? scale * width : shortestEdge;
  if (Math.max(h, w) > longest) {
    const s = longest / Math.max(h, w);
    h *= s;
    w *= s;
  }
  h = Math.trunc(h + 0.5);
  w = Math.trunc(w + 0.5);
  return {
    height: Math.floor(h / sizeDivisor) * sizeDivisor,
    width: Math.floor(w / sizeDivisor) * sizeDivisor,
  };
}

/** Pixels to the model's input: RGB float32 [3, H, W], H and W multiples of `size_divisor` after resizing. */
export function prepareImage(image: DecodedImage, cfg: ImageProcessorConfig, source = 'image'): FloatTensor {
  const channels = checkDecodedImage(image, source);
  let { width, height } = image;
  let pixels: Uint8Array | Uint8ClampedArray = image.data;
  if (cfg.doResize) {
    const target = viltResizeTarget(height, width, cfg.shortestEdge, cfg.sizeDivisor);
    if (target.height < 1 || target.width < 1) {
      throw new PumerError(
        'IMAGE',
        `${source}: ${width}x${height} is too narrow to resize (target ${target.width}x${target.height})`,
      );
    }
    pixels = resizePixels(pixels, width, height, channels, target.width, target.height, cfg.resample);
    width = target.width;
    height = target.height;
  }
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    // Grey images repeat their one channel; RGBA drops alpha (PIL's convert('RGB') does the same).
    const from = channels === 1 ? 0 : c;
    const scale = cfg.doRescale ? cfg.rescaleFactor : 1;
    const mean = cfg.doNormalize ? cfg.imageMean[c] : 0;
    const std = cfg.doNormalize ? cfg.imageStd[c] : 1;
    for (let i = 0; i < plane; i++) out[c * plane + i] = (pixels[i * channels + from] * scale - mean) / std;
  }
  return floatTensor(out, [3, height, width]);
}
