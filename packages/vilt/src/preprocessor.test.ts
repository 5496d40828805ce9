import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PumerError } from '@pumer/core';
import { describe, expect, it } from 'vitest';
import { defaultModelDir } from './node/assets.js';
import {
  MAX_SHORTEST_EDGE,
  parsePreprocessorConfig,
  prepareImage,
  preprocessorConfigJson,
  VILT_PROCESSOR_DEFAULTS,
  viltResizeTarget,
} from './preprocessor.js';
import { RESAMPLE, resizePixels } from './resize.js';

const cfg = parsePreprocessorConfig(
  JSON.parse(readFileSync(join(defaultModelDir(), 'preprocessor_config.json'), 'utf8')),
);

function solid(width: number, height: number, rgba: [number, number, number, number]) {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set(rgba, i * 4);
  return { data, width, height };
}

describe('image preparation', () => {
  it('parses the bundled preprocessor_config.json', () => {
    expect(cfg).toMatchObject({
      shortestEdge: 64,
      sizeDivisor: 8,
      resample: RESAMPLE.bicubic,
      imageMean: [0.5, 0.5, 0.5],
    });
    expect(cfg.rescaleFactor).toBeCloseTo(1 / 255, 12);
  });

  it('computes ViltImageProcessor output sizes', () => {
    expect(viltResizeTarget(64, 64, 64, 8)).toEqual({ height: 64, width: 64 });
    expect(viltResizeTarget(480, 640, 384, 32)).toEqual({ height: 384, width: 512 });
    // The longer side is capped at int(1333/800 * 384) = 639, then floored to the divisor.
    expect(viltResizeTarget(100, 1000, 384, 32)).toEqual({ height: 64, width: 608 });
    expect(viltResizeTarget(50, 30, 64, 8)).toEqual({ height: 104, width: 64 });
  });

  it('leaves 64x64 pixels alone and maps them to (x/255 - 0.5)/0.5 in [C, H, W]', () => {
    const img = solid(64, 64, [255, 0, 51, 255]);
    const t = prepareImage(img, cfg);
    expect(t.shape).toEqual([3, 64, 64]);
    expect(t.data[0]).toBeCloseTo(1, 6);
    expect(t.data[64 * 64]).toBeCloseTo(-1, 6);
    expect(t.data[2 * 64 * 64 + 100]).toBeCloseTo(51 / 255 / 0.5 - 1, 6);
  });

  it('resizes other sizes with bicubic sampling, keeping flat colours flat', () => {
    const t = prepareImage(solid(100, 50, [10, 200, 30, 255]), cfg);
    // 100x50 -> 128x64, capped at int(1333/800 * 64) = 106 -> 106x53, floored to multiples of 8.
    expect(t.shape).toEqual([3, 48, 104]);
    for (const v of t.data.subarray(0, 48 * 104)) expect(v).toBeCloseTo(10 / 127.5 - 1, 6);
    // A gradient stays monotone after down-sampling (no ringing at a smooth ramp).
    const ramp = new Uint8Array(200 * 3);
    for (let x = 0; x < 200; x++) ramp.fill(x, x * 3, x * 3 + 3);
    const small = resizePixels(ramp, 200, 1, 3, 50, 1, RESAMPLE.bicubic);
    for (let x = 1; x < 50; x++) expect(small[x * 3]).toBeGreaterThanOrEqual(small[(x - 1) * 3]);
    expect(small[0]).toBeLessThan(5);
    expect(small[49 * 3]).toBeGreaterThan(194);
  });

  it('accepts RGB and grey pixels as well as RGBA', () => {
    const rgb = { data: new Uint8Array(64 * 64 * 3).fill(255), width: 64, height: 64 };
    const grey = { data: new Uint8Array(64 * 64).fill(0), width: 64, height: 64, channels: 1 as const };
    expect(prepareImage(rgb, cfg).data[5]).toBeCloseTo(1, 6);
    expect(prepareImage(grey, cfg).data[2 * 4096 + 5]).toBeCloseTo(-1, 6);
  });

  it('rejects pixels that do not match their size, and bad config fields', () => {
    expect(() => prepareImage({ data: new Uint8Array(10), width: 64, height: 64 }, cfg)).toThrow(PumerError);
    expect(() => parsePreprocessorConfig({ size: { height: 64 } })).toThrow(/field "size"/);
    expect(() => parsePreprocessorConfig({ image_std: [0.5, 0, 0.5] })).toThrow(/field "image_std"/);
    expect(() => parsePreprocessorConfig({ resample: 7 })).toThrow(/field "resample"/);
    expect(parsePreprocessorConfig({})).toEqual(VILT_PROCESSOR_DEFAULTS);
  });

  it('reads the legacy feature-extractor form: "size" as a number, pad_and_return_pixel_mask', () => {
    const legacy = parsePreprocessorConfig({ size: 384, size_divisor: 32, feature_extractor_type: 'x' });
    expect(legacy).toEqual({ ...VILT_PROCESSOR_DEFAULTS, shortestEdge: 384 });
    expect(parsePreprocessorConfig({ size: { shortest_edge: 384 } })).toEqual(legacy);
    expect(parsePreprocessorConfig({ pad_and_return_pixel_mask: false, do_pad: true }).doPad).toBe(false);
    expect(parsePreprocessorConfig({ do_pad: false }).doPad).toBe(false);
    // A single number for mean/std stands for every channel.
    expect(parsePreprocessorConfig({ image_mean: 0.25, image_std: 2 })).toMatchObject({
      imageMean: [0.25, 0.25, 0.25],
      imageStd: [2, 2, 2],
    });
  });

  it('refuses out-of-range sizes and factors with a CONFIG error naming the field', () => {
    const configError = (json: unknown, patchSize?: number): string => {
      try {
        parsePreprocessorConfig(json, 'p.json', patchSize);
      } catch (err) {
        expect(err).toBeInstanceOf(PumerError);
        expect((err as PumerError).code).toBe('CONFIG');
        return (err as PumerError).message;
      }
      throw new Error('expected a CONFIG error');
    };
    expect(configError({ size: MAX_SHORTEST_EDGE + 1 })).toMatch(/p.json: field "size" must be at most 4096/);
    expect(configError({ size: { shortest_edge: 5000 } })).toMatch(
      /field "size.shortest_edge" must be at most/,
    );
    expect(configError({ size: 16 }, 32)).toMatch(
      /field "size" \(16\) must be at least the patch size \(32\)/,
    );
    expect(parsePreprocessorConfig({ size: 32 }, 'p.json', 32).shortestEdge).toBe(32);
    expect(configError({ size: 0 })).toMatch(/field "size" must be a positive integer/);
    expect(configError({ rescale_factor: 0 })).toMatch(/field "rescale_factor" must be a positive number/);
    expect(configError({ rescale_factor: -1 / 255 })).toMatch(/field "rescale_factor"/);
    expect(configError({ do_pad: 'yes' })).toMatch(/field "do_pad" must be true or false/);
    expect(configError({ pad_and_return_pixel_mask: 1 })).toMatch(/field "pad_and_return_pixel_mask"/);
    // Values JSON cannot serialise (a caller-built object) are described, not a TypeError of the message.
    expect(configError({ do_pad: 1n })).toMatch(/field "do_pad" must be true or false, got 1n/);
    expect(configError({ image_mean: [0.5, 0.5, 1n] })).toMatch(/field "image_mean" .*got \[0.5, 0.5, 1n\]/);
  });

  it("resamples in Pillow's fixed point, clipping the bicubic overshoot", () => {
    // Worked by hand from Resample.c: weights (1.088, -0.088) and (0.793, 0.207) per side.
    const two = new Uint8Array([0, 0, 0, 255, 255, 255]);
    expect(
      Array.from(resizePixels(two, 2, 1, 3, 4, 1, RESAMPLE.bicubic).filter((_, i) => i % 3 === 0)),
    ).toEqual([0, 53, 202, 255]);
  });

  it('rescales and normalises in float32, as numpy does', () => {
    const t = prepareImage(solid(64, 64, [1, 127, 254, 255]), cfg);
    const f = Math.fround;
    for (const [c, v] of [1, 127, 254].entries()) expect(t.data[c * 4096]).toBe(f(f(f(v / 255) - 0.5) / 0.5));
  });
});

describe('the "pumer" section of preprocessor_config.json', () => {
  const square = {
    ...VILT_PROCESSOR_DEFAULTS,
    resample: RESAMPLE.bilinear,
    doPad: false,
    fixedSize: { height: 64, width: 64 },
  };

  it('round-trips every transform, the fixed size included, and resizes to exactly that size', () => {
    for (const t of [cfg, square])
      expect(parsePreprocessorConfig(preprocessorConfigJson(t), 'x', 8)).toEqual(t);
    expect(prepareImage(solid(100, 30, [9, 9, 9, 255]), square).shape).toEqual([3, 64, 64]);
    expect(preprocessorConfigJson(cfg)).not.toHaveProperty('pumer');
  });

  it('refuses a malformed fixed size, naming the field', () => {
    const json = (fixed: unknown) => ({ ...preprocessorConfigJson(cfg), pumer: { fixed_size: fixed } });
    const cases: [unknown, RegExp][] = [
      [{ height: 64 }, /"pumer\.fixed_size\.width" must be a positive integer/],
      [[64, 64], /"pumer\.fixed_size" must be/],
      [
        { height: 60, width: 64 },
        /"pumer\.fixed_size\.height" \(60\) must be a multiple of the patch size \(8\)/,
      ],
    ];
    for (const [fixed, message] of cases)
      expect(() => parsePreprocessorConfig(json(fixed), 'preprocessor_config.json', 8)).toThrow(message);
    expect(() => parsePreprocessorConfig({ pumer: 3 })).toThrow(PumerError);
  });
});
