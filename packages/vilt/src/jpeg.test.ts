import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { PumerError } from '@pumer/core';
import { describe, expect, it } from 'vitest';
import { jpegImageDecoder, loadJpegDecoder } from './jpeg.js';
import { bundledImages } from './node/assets.js';

// The browser path, run in Node: the .wasm arrives as bytes or from a URL instead of from the package files.
const require = createRequire(import.meta.url);
const wasm = new Uint8Array(readFileSync(require.resolve('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm')));
// A 1x1 grey baseline JPEG.
const TINY_JPEG = Uint8Array.from(
  Buffer.from(
    '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q==',
    'base64',
  ),
);

describe('JPEG decoding from a fetched or given .wasm (the browser path)', () => {
  it('decodes with a decoder loaded from bytes and from a URL', async () => {
    const fromBytes = await loadJpegDecoder(wasm);
    const fromUrl = await loadJpegDecoder(
      `data:application/wasm;base64,${Buffer.from(wasm).toString('base64')}`,
    );
    const a = fromBytes(TINY_JPEG, 'tiny.jpg');
    expect([a.width, a.height, a.channels]).toEqual([1, 1, 3]);
    expect(a.data[0]).toBe(a.data[1]); // grey replicated to RGB
    expect(fromUrl(TINY_JPEG, 'tiny.jpg').data).toEqual(a.data);
  });

  it('installs as an ImageDecoder for JPEG bytes and points PNG bytes elsewhere', async () => {
    const decoder = jpegImageDecoder(await loadJpegDecoder(wasm));
    expect(decoder.decode(TINY_JPEG, 'tiny.jpg').width).toBe(1);
    const png = new Uint8Array(readFileSync(bundledImages()[0].path));
    expect(() => decoder.decode(png, 'a.png')).toThrow(PumerError);
    expect(() => decoder.decode(png, 'a.png')).toThrow(/a.png: PNG bytes need '@pumer\/vilt\/node'/);
    expect(() => decoder.decode(new Uint8Array(8), 'x')).toThrow(/x: not a JPEG image/);
  });
});
