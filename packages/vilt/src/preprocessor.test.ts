import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PumerError } from '@pumer/core';
import { describe, expect, it } from 'vitest';
import { defaultModelDir } from './node/assets.js';
import {
  parsePreprocessorConfig,
  prepareImage,
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
});
