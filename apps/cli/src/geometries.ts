import {
  METER_B16_288_GEOMETRY,
  METER_B16_384_GEOMETRY,
  type MeterGeometry,
  type ModelGeometry,
  VILT_B32_GEOMETRY,
} from '@pumer/core';
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

/**
 * The tiny METER models of the shared data: D 32, 4 heads, F 64, 2 co-attention steps, a 2-layer RoBERTa and a
 * 2-block ViT of width 32, 64x64 images in 16x16 patches (17 image tokens), 16 text tokens, vocab 64.
 */
export const TINY_METER_GEOMETRY: MeterGeometry = Object.freeze({
  hiddenSize: 32,
  numHeads: 4,
  intermediateSize: 64,
  numSteps: 2,
  crossLayerNormEps: 1e-12,
  maxTextLength: 16,
  text: Object.freeze({
    numLayers: 2,
    hiddenSize: 32,
    numHeads: 4,
    intermediateSize: 64,
    layerNormEps: 1e-5,
    vocabSize: 64,
    maxPositions: 18,
    padTokenId: 1,
  }),
  image: Object.freeze({
    width: 32,
    numBlocks: 2,
    numHeads: 4,
    patchSize: 16,
    imageSize: 64,
    layerNormEps: 1e-5,
  }),
  numLabels: 10,
  numImages: 1,
});

/** METER geometries: METER-B/16 (CLIP ViT-B/16, RoBERTa-base, 6 steps, 40 text tokens) at 288 and 384 px. */
export const METER_GEOMETRIES: Readonly<Record<string, MeterGeometry>> = Object.freeze({
  'meter-b16-384': METER_B16_384_GEOMETRY,
  'meter-b16-288': METER_B16_288_GEOMETRY,
  'tiny-meter': TINY_METER_GEOMETRY,
});

/** What `pumer schedule` and `pumer bench` use without --geometry. */
export const DEFAULT_GEOMETRY = 'vilt-b32';

/** A geometry by name, with the model family it is of. */
export type NamedGeometry =
  | { readonly family: 'vilt'; readonly name: string; readonly geometry: ModelGeometry }
  | { readonly family: 'meter'; readonly name: string; readonly geometry: MeterGeometry };

/** Every geometry name, ViLT's first. */
export function geometryNames(): string[] {
  return [...Object.keys(GEOMETRIES), ...Object.keys(METER_GEOMETRIES)];
}

export function findGeometry(name: string): NamedGeometry {
  const vilt = GEOMETRIES[name];
  if (vilt) return { family: 'vilt', name, geometry: vilt };
  const meter = METER_GEOMETRIES[name];
  if (meter) return { family: 'meter', name, geometry: meter };
  throw new CliError(`unknown geometry "${name}" (expected one of ${geometryNames().join(', ')})`);
}

/** A ViLT geometry by name. */
export function geometryByName(name: string): ModelGeometry {
  const g = findGeometry(name);
  if (g.family !== 'vilt') {
    throw new CliError(
      `geometry "${name}" is a METER geometry; expected one of ${Object.keys(GEOMETRIES).join(', ')}`,
    );
  }
  return g.geometry;
}
