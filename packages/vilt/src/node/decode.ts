import { readFileSync } from 'node:fs';
import { PumerError } from '@pumer/core';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { type DecodedImage, type ImageDecoder, sniffImageFormat } from '../image.js';

/** PNG (pngjs) and JPEG (jpeg-js) decoding, and reading image files: Node only. */

/** Decodes PNG or JPEG bytes to RGBA pixels. */
export function decodeImageBytes(bytes: Uint8Array, source = 'image bytes'): DecodedImage {
  const format = sniffImageFormat(bytes);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    if (format === 'png') {
      const png = PNG.sync.read(buf);
      return {
        data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength),
        width: png.width,
        height: png.height,
        channels: 4,
      };
    }
    if (format === 'jpeg') {
      const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true });
      return { data: img.data, width: img.width, height: img.height, channels: 4 };
    }
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new PumerError('IMAGE', `${source}: cannot decode ${format === 'png' ? 'PNG' : 'JPEG'} (${msg})`, {
      cause: err,
    });
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

/** Decodes an image file (PNG or JPEG) to RGBA pixels. */
export function decodeImageFile(path: string): DecodedImage {
  return decodeImageBytes(readImageFile(path), path);
}

export const nodeImageDecoder: ImageDecoder = { decode: decodeImageBytes, readFile: readImageFile };
