import { readFileSync } from 'node:fs';
import { PumerError } from '@pumer/core';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { decodeImageInput } from '../image.js';
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

describe('image decoding (node)', () => {
  const png = bundledImages()[0].path;

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

  it('decodes a JPEG', () => {
    const raw = { data: new Uint8Array(16 * 8 * 4).fill(200), width: 16, height: 8 };
    const encoded = jpeg.encode(raw, 90).data;
    const img = decodeImageBytes(new Uint8Array(encoded));
    expect([img.width, img.height]).toEqual([16, 8]);
    expect(Math.abs(img.data[0] - 200)).toBeLessThan(3);
  });

  it('gives a clear IMAGE error for unreadable images', () => {
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
    expect(
      imageError(() => decodeImageInput({ data: new Uint8Array(7), width: 2, height: 2 })).message,
    ).toMatch(/not 1, 3 or 4 values/);
    expect(imageError(() => decodeImageInput(42 as unknown as string)).message).toMatch(
      /image must be a path/,
    );
  });
});
