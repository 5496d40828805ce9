import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hasSharedData, sharedPath } from '@pumer/testkit/node';
import { describe, expect, it } from 'vitest';
import type { DecodedImage } from '../image.js';
import { parsePreprocessorConfig, prepareImage } from '../preprocessor.js';
import { decodeImageFile } from './decode.js';

/**
 * Real photographs against what transformers computed with Pillow (../shared/real): JPEG decoding must give
 * Pillow's RGB byte for byte, and preparation ViltImageProcessor's pixel_values value for value.
 */

interface Stats {
  readonly shape: number[];
  readonly mean: number;
  readonly std: number;
  readonly min: number;
  readonly max: number;
  readonly first16: number[];
  readonly raw?: string;
}

interface RealImage {
  readonly file: string;
  readonly width: number;
  readonly height: number;
  readonly mode: string;
  readonly rgb_sha256: string;
  readonly rgb_mean: number;
  readonly rgb_raw?: { readonly file: string };
  readonly preprocessed: { readonly pixel_values: Stats };
}

const present = hasSharedData('real', 'images.json');

/** Pillow's `convert("RGB")`: alpha dropped without compositing, grey replicated. */
function rgbOf(img: DecodedImage): Uint8Array {
  const ch = img.channels ?? img.data.length / (img.width * img.height);
  if (ch === 3) return Uint8Array.from(img.data);
  const out = new Uint8Array(img.width * img.height * 3);
  for (let i = 0; i < img.width * img.height; i++)
    for (let c = 0; c < 3; c++) out[i * 3 + c] = img.data[i * ch + (ch === 1 ? 0 : c)];
  return out;
}

describe.skipIf(!present)('real photographs, as Pillow and ViltImageProcessor see them', () => {
  const images: RealImage[] = present
    ? JSON.parse(readFileSync(sharedPath('real', 'images.json'), 'utf8')).images
    : [];
  const config = (dir: string) =>
    parsePreprocessorConfig(
      JSON.parse(readFileSync(sharedPath('real', dir, 'preprocessor_config.json'), 'utf8')),
      `${dir}/preprocessor_config.json`,
      32,
    );
  // vqa/ has the legacy form ("size": 384, no do_rescale/rescale_factor/do_pad); nlvr2/ the current one.
  const legacy = () => config('vqa');
  const current = () => config('nlvr2');

  it('reads both preprocessor_config.json forms to the same settings', () => {
    expect(legacy()).toEqual(current());
    expect(legacy()).toMatchObject({ shortestEdge: 384, sizeDivisor: 32, doRescale: true, doPad: true });
  });

  it('decodes every image to the RGB Pillow gives (sha256 and mean)', () => {
    expect(images.length).toBeGreaterThanOrEqual(9);
    for (const im of images) {
      const img = decodeImageFile(sharedPath('real', im.file));
      expect([img.width, img.height], im.file).toEqual([im.width, im.height]);
      const rgb = rgbOf(img);
      expect(createHash('sha256').update(rgb).digest('hex'), im.file).toBe(im.rgb_sha256);
      const mean = rgb.reduce((a, b) => a + b, 0) / rgb.length;
      expect(Math.abs(mean - im.rgb_mean), im.file).toBeLessThan(1e-6);
    }
  });

  it('matches the raw RGB files byte for byte', () => {
    const withRaw = images.filter((im) => im.rgb_raw);
    expect(withRaw.length).toBeGreaterThan(0);
    for (const im of withRaw) {
      const ref = new Uint8Array(readFileSync(sharedPath('real', im.rgb_raw?.file ?? '')));
      const rgb = rgbOf(decodeImageFile(sharedPath('real', im.file)));
      let differ = 0;
      for (let i = 0; i < ref.length; i++) if (rgb[i] !== ref[i]) differ++;
      expect(rgb.length, im.file).toBe(ref.length);
      expect(differ, im.file).toBe(0);
    }
  });

  it('prepares every image to the processor pixel_values (shape, first16, min, max, mean, std)', () => {
    for (const im of images) {
      const ref = im.preprocessed.pixel_values;
      const t = prepareImage(decodeImageFile(sharedPath('real', im.file)), current(), im.file);
      expect([1, ...t.shape], im.file).toEqual(ref.shape);
      expect(Array.from(t.data.subarray(0, 16)), im.file).toEqual(ref.first16.map(Math.fround));
      let sum = 0;
      let min = Infinity;
      let max = -Infinity;
      for (const v of t.data) {
        sum += v;
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      const mean = sum / t.data.length;
      let sq = 0;
      for (const v of t.data) sq += (v - mean) ** 2;
      expect([min, max], im.file).toEqual([Math.fround(ref.min), Math.fround(ref.max)]);
      expect(Math.abs(mean - ref.mean), im.file).toBeLessThan(1e-6);
      expect(Math.abs(Math.sqrt(sq / t.data.length) - ref.std), im.file).toBeLessThan(1e-6);
    }
  });

  it('prepares the images with raw pixel_values to exactly those values', () => {
    const withRaw = images.filter((im) => im.preprocessed.pixel_values.raw);
    expect(withRaw.length).toBeGreaterThan(0);
    for (const im of withRaw) {
      const bytes = readFileSync(sharedPath('real', im.preprocessed.pixel_values.raw ?? ''));
      const ref = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      for (const cfg of [legacy(), current()]) {
        const t = prepareImage(decodeImageFile(sharedPath('real', im.file)), cfg, im.file);
        expect(t.data.length, im.file).toBe(ref.length);
        let differ = 0;
        for (let i = 0; i < ref.length; i++) if (t.data[i] !== ref[i]) differ++;
        expect(differ, im.file).toBe(0);
      }
    }
  });
});
