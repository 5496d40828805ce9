import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { syntheticInputs } from './inputs.js';
import {
  checkpointGeometry,
  imageTokens,
  imageWidth,
  reportPath,
  SYNTHETIC_GEOMETRIES,
} from './synthetic.js';

describe('benchmark geometries', () => {
  it('vilt-b32-photo feeds 384x512 photos (12 x 16 patches + [CLS]) to the vilt-b32 checkpoint', () => {
    const photo = SYNTHETIC_GEOMETRIES['vilt-b32-photo']!;
    const square = SYNTHETIC_GEOMETRIES['vilt-b32']!;
    expect(imageTokens(square)).toBe(145);
    expect(imageTokens(photo)).toBe(193);
    expect([photo.imageSize, imageWidth(photo)]).toEqual([384, 512]);
    expect(imageWidth(square)).toBe(384);
    // Same weights: the photo geometry writes no checkpoint of its own.
    expect(checkpointGeometry(photo)).toBe(square);
    expect(checkpointGeometry(square)).toBe(square);
  });

  it('synthetic inputs take a width for images that are not square', () => {
    const inputs = syntheticInputs(2, 8, 100, 64, 1, 1, 96);
    expect(inputs.pixelValues.shape).toEqual([2, 3, 64, 96]);
    expect(inputs.pixelValues.data).toHaveLength(2 * 3 * 64 * 96);
    expect(syntheticInputs(1, 8, 100, 64, 1, 2, 96).pixelValues.shape).toEqual([1, 2, 3, 64, 96]);
    expect(syntheticInputs(1, 8, 100, 64, 1).pixelValues.shape).toEqual([1, 3, 64, 64]);
  });
});

describe('reportPath', () => {
  it('writes the home folder as ~, so a committed report names no machine', () => {
    expect(reportPath(path.join(os.homedir(), '.cache', 'pumer', 'bench-tiny-seed1'))).toBe(
      ['~', '.cache', 'pumer', 'bench-tiny-seed1'].join(path.sep),
    );
    expect(reportPath(`${os.homedir()}x/y`)).toBe(`${os.homedir()}x/y`);
    expect(reportPath('/opt/pumer-cache/bench-tiny-seed1')).toBe('/opt/pumer-cache/bench-tiny-seed1');
  });
});
