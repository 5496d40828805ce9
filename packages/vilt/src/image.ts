import { PumerError } from '@pumer/core';
import { ioHooks } from './io-registry.js';

/**
 * Images as the pipeline takes them. A decoded image is interleaved 8-bit pixels (a canvas's ImageData fits);
 * encoded bytes and file paths need a decoder, which the Node entry (`@pumer/vilt/node`) registers with
 * PNG and JPEG support. The browser path never imports a decoder: it passes pixels it already has.
 */
export interface DecodedImage {
  /** Interleaved pixels, row-major: RGBA, RGB or grey. */
  readonly data: Uint8Array | Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
  /** Values per pixel (4 RGBA, 3 RGB, 1 grey); inferred from the data length when absent. */
  readonly channels?: 1 | 3 | 4;
}

/** A decoded image, encoded PNG/JPEG bytes, or (with a decoder that reads files) a path. */
export type ImageInput = DecodedImage | Uint8Array | ArrayBuffer | string;

export interface ImageDecoder {
  /** Decodes PNG or JPEG bytes; `source` names the image in errors. */
  decode(bytes: Uint8Array, source: string): DecodedImage;
  /** Reads a file's bytes (absent in browsers). */
  readFile?(path: string): Uint8Array;
}

/** Installs the decoder used for encoded bytes and paths. `@pumer/vilt/node` installs a PNG/JPEG one on import. */
export function setImageDecoder(decoder: ImageDecoder | null): void {
  ioHooks().imageDecoder = decoder;
}

export function getImageDecoder(): ImageDecoder | null {
  return ioHooks().imageDecoder;
}

function isDecoded(v: unknown): v is DecodedImage {
  return (
    typeof v === 'object' &&
    v !== null &&
    'data' in v &&
    'width' in v &&
    'height' in v &&
    ((v as DecodedImage).data instanceof Uint8Array || (v as DecodedImage).data instanceof Uint8ClampedArray)
  );
}

/** Checks a decoded image and returns its channel count. */
export function checkDecodedImage(img: DecodedImage, source = 'image'): 1 | 3 | 4 {
  const { width, height, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new PumerError(
      'IMAGE',
      `${source}: width and height must be positive integers, got ${width}x${height}`,
    );
  }
  const pixels = width * height;
  const channels = img.channels ?? data.length / pixels;
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new PumerError(
      'IMAGE',
      `${source}: ${data.length} bytes for ${width}x${height} pixels is not 1, 3 or 4 values per pixel`,
    );
  }
  if (data.length !== pixels * channels) {
    throw new PumerError(
      'IMAGE',
      `${source}: expected ${pixels * channels} bytes for ${width}x${height}x${channels}, got ${data.length}`,
    );
  }
  return channels;
}

/** Turns any ImageInput into decoded pixels, or throws a PumerError('IMAGE') saying why it cannot. */
export function decodeImageInput(input: ImageInput, source?: string): DecodedImage {
  if (isDecoded(input)) {
    checkDecodedImage(input, source ?? 'decoded image');
    return input;
  }
  const decoder = ioHooks().imageDecoder;
  if (typeof input === 'string') {
    if (!decoder?.readFile) {
      throw new PumerError(
        'IMAGE',
        `cannot read image path "${input}" here: import '@pumer/vilt/node' (Node) or pass decoded pixels`,
      );
    }
    let bytes: Uint8Array;
    try {
      bytes = decoder.readFile(input);
    } catch (err) {
      if (err instanceof PumerError) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      throw new PumerError('IMAGE', `cannot read image "${input}": ${msg}`, { cause: err });
    }
    return decodeBytes(decoder, bytes, source ?? input);
  }
  if (input instanceof ArrayBuffer) input = new Uint8Array(input);
  if (input instanceof Uint8Array) {
    if (!decoder) {
      throw new PumerError(
        'IMAGE',
        "cannot decode image bytes here: import '@pumer/vilt/node' (Node) or pass decoded pixels",
      );
    }
    return decodeBytes(decoder, input, source ?? 'image bytes');
  }
  throw new PumerError(
    'IMAGE',
    'image must be a path, PNG/JPEG bytes, or decoded pixels {data, width, height}',
  );
}

function decodeBytes(decoder: ImageDecoder, bytes: Uint8Array, source: string): DecodedImage {
  let img: DecodedImage;
  try {
    img = decoder.decode(bytes, source);
  } catch (err) {
    if (err instanceof PumerError) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    throw new PumerError('IMAGE', `${source}: cannot decode image (${msg})`, { cause: err });
  }
  checkDecodedImage(img, source);
  return img;
}

export type ImageFormat = 'png' | 'jpeg';

/** Recognises PNG and JPEG by their magic bytes. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47)
    return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}
