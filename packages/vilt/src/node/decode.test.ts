import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import mozjpegEncode, { init as initEncoder } from '@jsquash/jpeg/encode.js';
import { PumerError } from '@pumer/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type DecodedImage, decodeImageInput } from '../image.js';
import { jpegDimensions } from '../image-size.js';
import '../node.js';
import { bundledImages } from './assets.js';
import { decodeImageBytes, decodeImageFile } from './decode.js';

function imageError(fn: () => unknown): PumerError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PumerError);
    expect((err as PumerError).code).toBe('IMAGE');
    return err as PumerError;
  }
  throw new Error('expected a PumerError');
}

/** Encodes RGBA pixels as a JPEG (mozjpeg's encoder from the same package; 4:2:0 at quality 90). */
async function encodeJpeg(data: Uint8ClampedArray, width: number, height: number): Promise<Uint8Array> {
  const encode = mozjpegEncode as unknown as (
    img: { data: Uint8ClampedArray; width: number; height: number },
    options: { quality: number },
  ) => Promise<ArrayBuffer>;
  return new Uint8Array(await encode({ data, width, height }, { quality: 90 }));
}

/** `jpeg` with an APP1 Exif segment carrying `orientation` inserted after SOI. */
function withOrientation(jpeg: Uint8Array, orientation: number, bigEndian: boolean): Uint8Array {
  const tiff = new Uint8Array(26);
  const v = new DataView(tiff.buffer);
  const le = !bigEndian;
  tiff.set(bigEndian ? [0x4d, 0x4d] : [0x49, 0x49]);
  v.setUint16(2, 42, le);
  v.setUint32(4, 8, le); // IFD0 right after the header
  v.setUint16(8, 1, le); // one entry
  v.setUint16(10, 0x0112, le); // Orientation
  v.setUint16(12, 3, le); // SHORT
  v.setUint32(14, 1, le);
  v.setUint16(18, orientation, le);
  const body = [...new TextEncoder().encode('Exif'), 0, 0, ...tiff];
  const segment = [0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];
  return new Uint8Array([...jpeg.subarray(0, 2), ...segment, ...jpeg.subarray(2)]);
}

describe('image decoding (node)', () => {
  const png = bundledImages()[0].path;

  beforeAll(async () => {
    const require = createRequire(import.meta.url);
    const wasm = new WebAssembly.Module(
      readFileSync(require.resolve('@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm')),
    );
    await (initEncoder as unknown as (m: WebAssembly.Module) => Promise<void>)(wasm);
  });

  it('decodes a PNG from a path, bytes and an ArrayBuffer to the same RGBA pixels', () => {
    const a = decodeImageFile(png);
    expect([a.width, a.height, a.channels, a.data.length]).toEqual([64, 64, 4, 64 * 64 * 4]);
    const bytes = readFileSync(png);
    const b = decodeImageInput(new Uint8Array(bytes));
    const c = decodeImageInput(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const d = decodeImageInput(png);
    expect(b.data).toEqual(a.data);
    expect(c.data).toEqual(a.data);
    expect(d.data).toEqual(a.data);
  });

  it('decodes a JPEG to RGB, synchronously', async () => {
    const jpeg = await encodeJpeg(new Uint8ClampedArray(16 * 8 * 4).fill(200), 16, 8);
    const img = decodeImageBytes(jpeg);
    expect([img.width, img.height, img.channels, img.data.length]).toEqual([16, 8, 3, 16 * 8 * 3]);
    expect(Math.max(...img.data.map((v) => Math.abs(v - 200)))).toBeLessThan(3);
    expect(decodeImageInput(jpeg).data).toEqual(img.data);
  });

  it('refuses a JPEG above the pixel limit from its frame header, before decoding', async () => {
    const jpeg = await encodeJpeg(new Uint8ClampedArray(16 * 8 * 4).fill(200), 16, 8);
    expect(jpegDimensions(jpeg)).toEqual({ width: 16, height: 8 });
    // The same file claiming 30000x30000: its SOF segment (mozjpeg writes progressive, SOF2) holds height then
    // width after the precision byte.
    const sof = jpeg.findIndex((b, i) => b === 0xff && (jpeg[i + 1] === 0xc0 || jpeg[i + 1] === 0xc2));
    const bombed = Uint8Array.from(jpeg);
    bombed.set([30000 >> 8, 30000 & 0xff, 30000 >> 8, 30000 & 0xff], sof + 5);
    expect(jpegDimensions(bombed)).toEqual({ width: 30000, height: 30000 });
    const start = performance.now();
    expect(imageError(() => decodeImageBytes(bombed, 'bomb.jpg')).message).toMatch(
      /bomb\.jpg: 30000x30000 image \(900000000 pixels\) exceeds the limit of 50000000 pixels/,
    );
    expect(performance.now() - start).toBeLessThan(1000);
    expect(imageError(() => decodeImageBytes(jpeg, 'small.jpg', { maxPixels: 127 })).message).toMatch(
      /16x8 image \(128 pixels\) exceeds the limit of 127/,
    );
    expect(decodeImageBytes(jpeg, 'small.jpg', { maxPixels: 128 }).width).toBe(16);
    // No frame header before the scan: nothing libjpeg could decode either.
    const noFrame = Uint8Array.from([0xff, 0xd8, 0xff, 0xda, 0, 2, 0xff, 0xd9]);
    expect(jpegDimensions(noFrame)).toBeNull();
    expect(imageError(() => decodeImageBytes(noFrame)).message).toMatch(/no frame header/);
  });

  it('turns a JPEG upright by its EXIF orientation, as transformers load_image does', async () => {
    // 32x16 with coloured quadrants: red top-left, green top-right, blue bottom-left, white bottom-right.
    const W = 32;
    const H = 16;
    const rgba = new Uint8ClampedArray(W * H * 4);
    const colours = { r: [255, 0, 0], g: [0, 255, 0], b: [0, 0, 255], w: [255, 255, 255] };
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const q = y < H / 2 ? (x < W / 2 ? 'r' : 'g') : x < W / 2 ? 'b' : 'w';
        rgba.set([...colours[q], 255], (y * W + x) * 4);
      }
    const jpeg = await encodeJpeg(rgba, W, H);
    const corner = (img: DecodedImage, x: number, y: number): string => {
      const i = (y * img.width + x) * 3;
      const px = [img.data[i], img.data[i + 1], img.data[i + 2]];
      const hit = Object.entries(colours).find(([, c]) => c.every((v, k) => Math.abs(v - px[k]) < 40));
      return hit ? hit[0] : `?${px}`;
    };
    // Corners of the upright image, clockwise from top-left, for each orientation (Pillow's exif_transpose).
    const expected: Record<number, [number, number, string]> = {
      1: [32, 16, 'rgwb'],
      2: [32, 16, 'grbw'],
      3: [32, 16, 'wbrg'],
      4: [32, 16, 'bwgr'],
      5: [16, 32, 'rbwg'],
      6: [16, 32, 'brgw'],
      7: [16, 32, 'wgrb'],
      8: [16, 32, 'gwbr'],
    };
    for (const bigEndian of [false, true]) {
      for (const [o, [w, h, corners]] of Object.entries(expected)) {
        const img = decodeImageBytes(withOrientation(jpeg, Number(o), bigEndian), `orientation ${o}`);
        const seen = [
          corner(img, 1, 1),
          corner(img, w - 2, 1),
          corner(img, w - 2, h - 2),
          corner(img, 1, h - 2),
        ];
        expect([img.width, img.height, seen.join('')], `orientation ${o}`).toEqual([w, h, corners]);
      }
    }
  });

  it('gives a clear IMAGE error for unreadable images', async () => {
    expect(imageError(() => decodeImageInput('/nonexistent/cat.png')).message).toMatch(
      /cannot read image "\/nonexistent\/cat.png": no such file/,
    );
    expect(imageError(() => decodeImageInput(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]))).message).toMatch(
      /not a PNG or JPEG/,
    );
    const png = readFileSync(bundledImages()[0].path);
    expect(imageError(() => decodeImageBytes(png.subarray(0, 100), 'cut.png')).message).toMatch(
      /cut.png: cannot decode PNG/,
    );
    const noise = new Uint8ClampedArray(64 * 64 * 4).map((_, i) => (i * 7919) % 251);
    const jpeg = await encodeJpeg(noise, 64, 64);
    // Cut inside the entropy-coded data: libjpeg would fill in grey; Pillow refuses, and so do we.
    expect(
      imageError(() => decodeImageBytes(jpeg.subarray(0, jpeg.length - 200), 'cut.jpg')).message,
    ).toMatch(/cut.jpg: cannot decode JPEG \(the file is truncated\)/);
    // Cut inside the headers.
    expect(imageError(() => decodeImageBytes(jpeg.subarray(0, 40), 'head.jpg')).message).toMatch(
      /head.jpg: cannot decode JPEG \(.+\)/,
    );
    expect(
      imageError(() => decodeImageBytes(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 2, 7]), 'junk.jpg'))
        .message,
    ).toMatch(/junk.jpg: cannot decode JPEG/);
    // The decoder recovers after a fatal error.
    expect(decodeImageBytes(jpeg).width).toBe(64);
    expect(
      imageError(() => decodeImageInput({ data: new Uint8Array(7), width: 2, height: 2 })).message,
    ).toMatch(/not 1, 3 or 4 values/);
    expect(imageError(() => decodeImageInput(42 as unknown as string)).message).toMatch(
      /image must be a path/,
    );
  });
});
