import { PumerError } from '@pumer/core';

/**
 * The size an encoded image claims, read from its header (PNG IHDR, JPEG SOF) before any pixel memory is
 * allocated, and the pixel limit decoders hold it to: a 138-byte PNG can claim 20000x20000 pixels, which a
 * decoder would otherwise allocate (gigabytes) and fill before noticing the data is missing.
 */

/** Default largest image decoded: 50 megapixels (an 8-bit RGBA copy is 200 MB; ViLT resizes to ~384 px). */
export const DEFAULT_MAX_PIXELS = 50_000_000;

export interface ImageDecodeOptions {
  /** Largest width x height decoded; larger images are refused before decoding. Default DEFAULT_MAX_PIXELS. */
  readonly maxPixels?: number;
}

/** The limit of `options`, checked: a positive number (Infinity disables the limit). */
export function maxPixelsOf(options: ImageDecodeOptions | undefined): number {
  const limit = options?.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (typeof limit !== 'number' || Number.isNaN(limit) || limit < 1)
    throw new PumerError(
      'VALUE',
      `maxPixels must be a number >= 1 (Infinity for no limit), got ${String(limit)}`,
    );
  return limit;
}

/** Refuses a claimed size above `maxPixels`, naming both. */
export function checkPixelLimit(width: number, height: number, maxPixels: number, source: string): void {
  const pixels = width * height;
  if (pixels > maxPixels) {
    throw new PumerError(
      'IMAGE',
      `${source}: ${width}x${height} image (${pixels} pixels) exceeds the limit of ${maxPixels} pixels (option maxPixels, CLI --max-pixels)`,
    );
  }
}

const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/**
 * The width and height of a JPEG's frame header (SOF), walking the marker segments from SOI as libjpeg does
 * (stray bytes between segments skipped). Null when no frame header comes before the first scan or the end.
 */
export function jpegDimensions(bytes: Uint8Array): { width: number; height: number } | null {
  let i = 2;
  while (i + 1 < bytes.length) {
    if (bytes[i] !== 0xff) {
      i++;
      continue;
    }
    const marker = bytes[i + 1];
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    // Standalone markers carry no length.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      i += 2;
      continue;
    }
    if (marker === 0xda || marker === 0xd9 || i + 3 >= bytes.length) return null;
    const length = (bytes[i + 2] << 8) | bytes[i + 3];
    if (SOF_MARKERS.has(marker)) {
      if (length < 7 || i + 8 >= bytes.length) return null;
      const height = (bytes[i + 5] << 8) | bytes[i + 6];
      const width = (bytes[i + 7] << 8) | bytes[i + 8];
      return { width, height };
    }
    i += 2 + length;
  }
  return null;
}
