import { type ModelGeometry, VILT_B32_GEOMETRY } from '@pumer/core';
import { CliError } from './errors.js';

/** The geometries `pumer schedule` computes figures for without a model. */

/** The tiny ShapesVQA ViLT: 6 layers, hidden 64, 4 heads, MLP 256, 16 text tokens, 64x64 images in 8x8 patches. */
export const TINY_GEOMETRY: ModelGeometry = Object.freeze({
  numLayers: 6,
  hiddenSize: 64,
  numHeads: 4,
  intermediateSize: 256,
  textTokens: 16,
  imageTokens: 65,
});

export const GEOMETRIES: Readonly<Record<string, ModelGeometry>> = Object.freeze({
  'vilt-b32': VILT_B32_GEOMETRY,
  tiny: TINY_GEOMETRY,
});

/** What `pumer schedule` and `pumer bench` use without --geometry. */
export const DEFAULT_GEOMETRY = 'vilt-b32';

export function geometryByName(name: string): ModelGeometry {
  const g = GEOMETRIES[name];
  if (!g)
    throw new CliError(`unknown geometry "${name}" (expected one of ${Object.keys(GEOMETRIES).join(', ')})`);
  return g;
}
