import { inflateSync } from 'node:zlib';
import { PumerError } from '@pumer/core';
import { PNG } from 'pngjs';
import type { DecodedImage } from '../image.js';
import { checkPixelLimit } from '../image-size.js';

/**
 * Strict PNG decoding. pngjs alone allocates the size IHDR claims before reading any data (a 138-byte file
 * claiming 20000x20000 takes gigabytes), stops inflating once it has enough bytes (so the zlib adler32 at the
 * end of the stream is never checked and a flipped bit in the data decodes to altered pixels), and fills rows
 * the data lacks. So the file is checked first, as Pillow does: every chunk's CRC, IHDR's fields and the pixel
 * limit (before anything is allocated), then the concatenated IDAT inflated with zlib (which checks the
 * adler32) to exactly the length IHDR implies. Only then does pngjs turn the rows into RGBA.
 */

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Bit depths allowed for each colour type (PNG spec, table 11.1). */
const BIT_DEPTHS: Readonly<Record<number, readonly number[]>> = {
  0: [1, 2, 4, 8, 16], // grey
  2: [8, 16], // RGB
  3: [1, 2, 4, 8], // palette
  4: [8, 16], // grey + alpha
  6: [8, 16], // RGBA
};
const CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** PNG's largest width or height (2^31 - 1). */
const MAX_SIDE = 0x7fffffff;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (ISO 3309, as PNG chunks and zip entries use). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface PngHeader {
  readonly width: number;
  readonly height: number;
  readonly bitDepth: number;
  readonly colorType: number;
  readonly interlaced: boolean;
}

/** Bytes of filtered image data IHDR implies: per (pass and) row, one filter byte and the packed pixels. */
export function pngDataLength(h: PngHeader): number {
  const bitsPerPixel = h.bitDepth * CHANNELS[h.colorType];
  const rows = (w: number, n: number) =>
    w === 0 || n === 0 ? 0 : n * (1 + Math.ceil((w * bitsPerPixel) / 8));
  if (!h.interlaced) return rows(h.width, h.height);
  // Adam7: seven passes over sub-grids with these starts and steps.
  const passes = [
    [0, 0, 8, 8],
    [4, 0, 8, 8],
    [0, 4, 4, 8],
    [2, 0, 4, 4],
    [0, 2, 2, 4],
    [1, 0, 2, 2],
    [0, 1, 1, 2],
  ];
  let total = 0;
  for (const [x0, y0, dx, dy] of passes)
    total += rows(Math.ceil((h.width - x0) / dx), Math.ceil((h.height - y0) / dy));
  return total;
}

/** Reads and checks PNG bytes, then decodes them to RGBA. */
export function decodePngStrict(bytes: Uint8Array, source: string, maxPixels: number): DecodedImage {
  const fail = (why: string): never => {
    throw new PumerError('IMAGE', `${source}: cannot decode PNG (${why})`);
  };
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) fail('bad signature');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: PngHeader | null = null;
  const idat: Uint8Array[] = [];
  let ended = false;
  let pos = 8;
  while (pos < bytes.length) {
    if (pos + 12 > bytes.length) fail(`chunk at byte ${pos} is truncated`);
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    if (length > 0x7fffffff || pos + 12 + length > bytes.length)
      fail(`chunk "${type}" at byte ${pos} runs past the end of the file`);
    const data = bytes.subarray(pos + 8, pos + 8 + length);
    if (crc32(bytes.subarray(pos + 4, pos + 8 + length)) !== view.getUint32(pos + 8 + length))
      fail(`chunk "${type}" at byte ${pos} has a wrong CRC`);
    pos += 12 + length;
    if (header === null) {
      if (type !== 'IHDR') fail('the first chunk is not IHDR');
      header = readHeader(data, fail);
      checkPixelLimit(header.width, header.height, maxPixels, source);
      continue;
    }
    if (type === 'IHDR') fail('a second IHDR chunk');
    if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') {
      ended = true;
      break;
    }
  }
  if (!header) return fail('no IHDR chunk');
  if (!ended) fail('no IEND chunk: the file is truncated');
  if (idat.length === 0) fail('no IDAT chunk');
  const expected = pngDataLength(header);
  const compressed = Buffer.concat(idat);
  let inflated: Buffer;
  try {
    // One byte of room beyond what IHDR implies: enough to notice excess data, never a bomb's worth.
    inflated = inflateSync(compressed, { maxOutputLength: expected + 1 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE')
      return fail(`the image data inflates to more than the ${expected} bytes IHDR implies`);
    return fail(`damaged image data: ${e.message}`);
  }
  if (inflated.length !== expected)
    fail(`the image data inflates to ${inflated.length} bytes, but IHDR implies ${expected}`);
  try {
    const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return {
      data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength),
      width: png.width,
      height: png.height,
      channels: 4,
    };
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
}

function readHeader(data: Uint8Array, fail: (why: string) => never): PngHeader {
  if (data.length !== 13) fail(`IHDR holds ${data.length} bytes, not 13`);
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const width = v.getUint32(0);
  const height = v.getUint32(4);
  const [bitDepth, colorType, compression, filter, interlace] = data.subarray(8, 13);
  if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE)
    fail(`IHDR size ${width}x${height} is not allowed`);
  if (!BIT_DEPTHS[colorType]?.includes(bitDepth))
    fail(`IHDR colour type ${colorType} with bit depth ${bitDepth} is not allowed`);
  if (compression !== 0 || filter !== 0 || interlace > 1)
    fail(`IHDR compression ${compression}, filter ${filter}, interlace ${interlace} is not allowed`);
  return { width, height, bitDepth, colorType, interlaced: interlace === 1 };
}
