import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { PumerError } from '@pumer/core';
import { PNG } from 'pngjs';
import { type DecodedImage, type ImageDecoder, sniffImageFormat } from '../image.js';
import { createJpegDecoder, type JpegDecoder } from '../jpeg.js';

/**
 * PNG (pngjs) and JPEG (mozjpeg as WebAssembly, see ../jpeg.ts) decoding, and reading image files: Node only.
 * Pixels are what Pillow gives after `convert("RGB")` (plus alpha for PNGs, which preparation drops).
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

/** Decodes PNG bytes to RGBA or JPEG bytes to RGB pixels (EXIF orientation applied, as transformers does). */
export function decodeImageBytes(bytes: Uint8Array, source = 'image bytes'): DecodedImage {
  const format = sniffImageFormat(bytes);
  if (format === 'jpeg') return nodeJpegDecoder()(bytes, source);
  if (format === 'png') {
    try {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return {
        data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength),
        width: png.width,
        height: png.height,
        channels: 4,
      };
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new PumerError('IMAGE', `${source}: cannot decode PNG (${msg})`, { cause: err });
    }
  }
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
export function decodeImageFile(path: string): DecodedImage {
  return decodeImageBytes(readImageFile(path), path);
}

export const nodeImageDecoder: ImageDecoder = { decode: decodeImageBytes, readFile: readImageFile };
