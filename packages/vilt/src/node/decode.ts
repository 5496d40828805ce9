import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { PumerError } from '@pumer/core';
import { type DecodedImage, type ImageDecoder, sniffImageFormat } from '../image.js';
import { type ImageDecodeOptions, maxPixelsOf } from '../image-size.js';
import { createJpegDecoder, type JpegDecoder } from '../jpeg.js';
import { decodePngStrict } from './png.js';

/**
 * PNG (checked strictly, then pngjs: see ./png.ts) and JPEG (mozjpeg as WebAssembly, see ../jpeg.ts) decoding,
 * and reading image files: Node only. Pixels are what Pillow gives after `convert("RGB")` (plus alpha for PNGs,
 * which preparation drops). Images larger than `maxPixels` are refused from their header, before decoding.
 */

let jpeg: JpegDecoder | null = null;

/** The JPEG decoder over the package's own mozjpeg_dec.wasm, compiled on first use (synchronously). */
function nodeJpegDecoder(): JpegDecoder {
  if (!jpeg) {
    const require = createRequire(import.meta.url);
    const path = require.resolve('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm');
    jpeg = createJpegDecoder(new WebAssembly.Module(readFileSync(path)));
  }
  return jpeg;
}

/**
 * Decodes PNG bytes to RGBA or JPEG bytes to RGB pixels (EXIF orientation applied, as transformers does).
 * Images above `options.maxPixels` (default DEFAULT_MAX_PIXELS) are refused before anything is allocated.
 */
export function decodeImageBytes(
  bytes: Uint8Array,
  source = 'image bytes',
  options?: ImageDecodeOptions,
): DecodedImage {
  const maxPixels = maxPixelsOf(options);
  const format = sniffImageFormat(bytes);
  if (format === 'jpeg') return nodeJpegDecoder()(bytes, source, { maxPixels });
  if (format === 'png') return decodePngStrict(bytes, source, maxPixels);
  throw new PumerError('IMAGE', `${source}: not a PNG or JPEG image (unrecognised leading bytes)`);
}

export function readImageFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory'
          : err instanceof Error
            ? err.message
            : String(err);
    throw new PumerError('IMAGE', `cannot read image "${path}": ${why}`, { cause: err });
  }
}

/** Decodes an image file (PNG or JPEG). */
export function decodeImageFile(path: string, options?: ImageDecodeOptions): DecodedImage {
  return decodeImageBytes(readImageFile(path), path, options);
}

/** The Node decoder (PNG and JPEG, files and bytes) with its own options, for `setImageDecoder`. */
export function createNodeImageDecoder(options?: ImageDecodeOptions): ImageDecoder {
  const maxPixels = maxPixelsOf(options);
  return {
    decode: (bytes, source) => decodeImageBytes(bytes, source, { maxPixels }),
    readFile: readImageFile,
  };
}

/** The decoder `@pumer/vilt/node` installs: the default pixel limit (DEFAULT_MAX_PIXELS). */
export const nodeImageDecoder: ImageDecoder = createNodeImageDecoder();
