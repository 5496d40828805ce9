import { type FloatTensor, floatTensor, PumerError } from '@pumer/core';
import { checkDecodedImage, type DecodedImage } from './image.js';
import { RESAMPLE, resizePixels } from './resize.js';
import { describeValue } from './json-value.js';

/**
 * ViltImageProcessor as preprocessor_config.json describes it (transformers' image_processing_vilt.py):
 * resize with Pillow's resampler so the shorter side is `shortest_edge` with the longer side capped at
 * int(1333/800 · shortest_edge), both sides floored to `size_divisor`; rescale by `rescale_factor`;
 * normalise by mean and std, in float32 as numpy does. Output: float32 [C, H, W].
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
  /** Pad a batch to its largest height and width (with a pixel mask); the pipeline does the padding. */
  readonly doPad: boolean;
  /**
   * Resize to exactly this size instead, aspect ratio not kept (torchvision `Resize([h, w])` of a PIL image,
   * the PuMer authors' transform). Absent: the shortest-edge rule above.
   */
  readonly fixedSize?: { readonly height: number; readonly width: number };
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
  doPad: true,
});

/** The largest `shortest_edge` accepted: beyond it an image would not fit any sane memory budget. */
export const MAX_SHORTEST_EDGE = 4096;

function bad(source: string, field: string, message: string): PumerError {
  return new PumerError('CONFIG', `${source}: field "${field}" ${message}`);
}

/**
 * The section of preprocessor_config.json that holds what ViltImageProcessor cannot express, read only here
 * (transformers ignores unknown keys): `"pumer": {"fixed_size": {"height": h, "width": w}}` resizes every image
 * to exactly h x w, aspect ratio not kept, as the PuMer authors' transform does (`pumer convert` writes it for
 * their checkpoints).
 */
export const PUMER_PREPROCESSOR_FIELD = 'pumer';

function parsePumerFixedSize(
  raw: unknown,
  source: string,
  patchSize: number | undefined,
): { height: number; width: number } | undefined {
  if (raw === undefined || raw === null) return undefined;
  const field = PUMER_PREPROCESSOR_FIELD;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw bad(source, field, 'must be an object');
  const size = (raw as Record<string, unknown>)['fixed_size'];
  if (size === undefined || size === null) return undefined;
  if (typeof size !== 'object' || Array.isArray(size))
    throw bad(source, `${field}.fixed_size`, `must be {"height": h, "width": w}, got ${describeValue(size)}`);
  const side = (key: 'height' | 'width'): number => {
    const v = (size as Record<string, unknown>)[key];
    const name = `${field}.fixed_size.${key}`;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
      throw bad(source, name, `must be a positive integer, got ${describeValue(v)}`);
    if (v > MAX_SHORTEST_EDGE) throw bad(source, name, `must be at most ${MAX_SHORTEST_EDGE}, got ${v}`);
    if (patchSize !== undefined && v % patchSize !== 0)
      throw bad(source, name, `(${v}) must be a multiple of the patch size (${patchSize})`);
    return v;
  };
  return { height: side('height'), width: side('width') };
}

/**
 * An image transform as preprocessor_config.json (the ViltImageProcessor form, plus the "pumer" section for
 * a fixed size): what parsePreprocessorConfig reads back to the same transform.
 */
export function preprocessorConfigJson(cfg: ImageProcessorConfig): Record<string, unknown> {
  return {
    image_processor_type: 'ViltImageProcessor',
    do_resize: cfg.doResize,
    size: { shortest_edge: cfg.shortestEdge },
    size_divisor: cfg.sizeDivisor,
    resample: cfg.resample,
    do_rescale: cfg.doRescale,
    rescale_factor: cfg.rescaleFactor,
    do_normalize: cfg.doNormalize,
    image_mean: [...cfg.imageMean],
    image_std: [...cfg.imageStd],
    do_pad: cfg.doPad,
    ...(cfg.fixedSize
      ? {
          [PUMER_PREPROCESSOR_FIELD]: {
            fixed_size: { height: cfg.fixedSize.height, width: cfg.fixedSize.width },
          },
        }
      : {}),
  };
}

/**
 * Reads preprocessor_config.json: the ViltImageProcessor form, or the legacy ViltFeatureExtractor form of
 * older hub repositories (`"size": 384` as a number, `pad_and_return_pixel_mask`). Missing fields take
 * transformers' defaults. `patchSize` (the model's), when given, is the smallest `shortest_edge` accepted.
 */
export function parsePreprocessorConfig(
  json: unknown,
  source = 'preprocessor_config.json',
  patchSize?: number,
): ImageProcessorConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new PumerError('CONFIG', `${source}: expected a JSON object`);
  const c = json as Record<string, unknown>;
  const d = VILT_PROCESSOR_DEFAULTS;
  const bool = (field: string, fallback: boolean): boolean => {
    const v = c[field] ?? fallback;
    if (typeof v !== 'boolean') throw bad(source, field, `must be true or false, got ${describeValue(v)}`);
    return v;
  };
  const positiveInt = (field: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
      throw bad(source, field, `must be a positive integer, got ${describeValue(v)}`);
    return v;
  };
  // A single number stands for all three channels, as transformers allows.
  const triple = (field: string, fallback: readonly number[], positive: boolean): number[] => {
    let v = c[field] ?? fallback;
    if (typeof v === 'number') v = [v, v, v];
    if (
      !Array.isArray(v) ||
      v.length !== 3 ||
      !v.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0))
    ) {
      throw bad(
        source,
        field,
        `must be 3 ${positive ? 'positive ' : ''}numbers (one per RGB channel), got ${describeValue(v)}`,
      );
    }
    return v as number[];
  };
  // transformers' get_size_dict(size, default_to_square=False): a bare number is the shortest edge.
  const size = c['size'] ?? { shortest_edge: d.shortestEdge };
  const edge =
    typeof size === 'number'
      ? size
      : size !== null && typeof size === 'object' && 'shortest_edge' in size
        ? (size as Record<string, unknown>)['shortest_edge']
        : undefined;
  if (edge === undefined) {
    throw bad(
      source,
      'size',
      `must be {"shortest_edge": n} or a number (ViltImageProcessor), got ${describeValue(size)}`,
    );
  }
  const sizeField = typeof size === 'number' ? 'size' : 'size.shortest_edge';
  const shortestEdge = positiveInt(sizeField, edge);
  if (shortestEdge > MAX_SHORTEST_EDGE)
    throw bad(source, sizeField, `must be at most ${MAX_SHORTEST_EDGE}, got ${shortestEdge}`);
  if (patchSize !== undefined && shortestEdge < patchSize)
    throw bad(source, sizeField, `(${shortestEdge}) must be at least the patch size (${patchSize})`);
  const resample = c['resample'] ?? d.resample;
  if (!(Object.values(RESAMPLE) as unknown[]).includes(resample)) {
    throw bad(
      source,
      'resample',
      `must be a Pillow resample code: 0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box or 5 hamming, got ${describeValue(resample)}`,
    );
  }
  const rescaleFactor = c['rescale_factor'] ?? d.rescaleFactor;
  if (typeof rescaleFactor !== 'number' || !Number.isFinite(rescaleFactor) || rescaleFactor <= 0) {
    throw bad(source, 'rescale_factor', `must be a positive number, got ${describeValue(rescaleFactor)}`);
  }
  // The feature extractors' name for do_pad wins over it, as in ViltImageProcessor.__init__.
  const padField = 'pad_and_return_pixel_mask' in c ? 'pad_and_return_pixel_mask' : 'do_pad';
  const fixedSize = parsePumerFixedSize(c[PUMER_PREPROCESSOR_FIELD], source, patchSize);
  return {
    ...(fixedSize ? { fixedSize } : {}),
    doResize: bool('do_resize', d.doResize),
    shortestEdge,
    sizeDivisor: positiveInt('size_divisor', c['size_divisor'] ?? d.sizeDivisor),
    resample: resample as number,
    doRescale: bool('do_rescale', d.doRescale),
    rescaleFactor,
    doNormalize: bool('do_normalize', d.doNormalize),
    imageMean: triple('image_mean', d.imageMean, false),
    imageStd: triple('image_std', d.imageStd, true),
    doPad: bool(padField, d.doPad),
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
    const target = cfg.fixedSize ?? viltResizeTarget(height, width, cfg.shortestEdge, cfg.sizeDivisor);
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
  const f32 = Math.fround;
  for (let c = 0; c < 3; c++) {
    // Grey images repeat their one channel; RGBA drops alpha (PIL's convert('RGB') does the same).
    const from = channels === 1 ? 0 : c;
    // numpy's arithmetic: rescale in float64 then cast to float32; normalise in float32.
    const mean = f32(cfg.imageMean[c]);
    const std = f32(cfg.imageStd[c]);
    for (let i = 0; i < plane; i++) {
      const p = pixels[i * channels + from];
      const x = cfg.doRescale ? f32(p * cfg.rescaleFactor) : p;
      out[c * plane + i] = cfg.doNormalize ? f32(x - mean) / std : x;
    }
  }
  return floatTensor(out, [3, height, width]);
}
