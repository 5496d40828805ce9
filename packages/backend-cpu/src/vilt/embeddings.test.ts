import {
  floatTensor,
  intTensor,
  interpolatePositionEmbeddings,
  PumerError,
  ShapeError,
  type ViltGeometry,
  type ViltWeights,
} from '@pumer/core';
import { describe, expect, it } from 'vitest';
import { embedImage, embedText, joinModalities } from './embeddings.js';

/** A tiny ViLT with hand-set embedding weights: D = 2, one channel, 2x2 patches, trained on 4x4 images (2x2 grid). */
function tinyModel(): { geometry: ViltGeometry; weights: ViltWeights } {
  const d = 2;
  const geometry: ViltGeometry = {
    hiddenSize: d,
    numLayers: 0,
    numHeads: 1,
    intermediateSize: 4,
    layerNormEps: 1e-12,
    vocabSize: 3,
    maxTextLength: 4,
    imageSize: 4,
    patchSize: 2,
    numChannels: 1,
    numLabels: 1,
    numImages: 1,
  };
  const norm = { weight: floatTensor([1, 1], [d]), bias: floatTensor([0, 0], [d]), eps: 1e-12 };
  const weights = {
    wordEmbeddings: floatTensor([0, 0, 1, -1, 5, 1], [3, d]),
    textPositionEmbeddings: floatTensor([0, 0, 0, 2, 0, 0, 0, 0], [4, d]),
    textTokenTypeEmbeddings: floatTensor([0.5, 0, 9, 9], [2, d]),
    textNorm: norm,
    clsToken: floatTensor([100, 200], [d]),
    // [CLS] row, then the 2x2 grid of patch positions.
    imagePositionEmbeddings: floatTensor([1, 1, 0, 0, 10, 0, 20, 0, 30, 0], [5, d]),
    // Output 0 reads the patch's top-left pixel; output 1 its bottom-right pixel.
    patchProjection: {
      weight: floatTensor([1, 0, 0, 0, 0, 0, 0, 1], [d, 1, 2, 2]),
      bias: floatTensor([0, 0.5], [d]),
    },
    modalityEmbeddings: floatTensor([0, 0.25, 1000, 0], [2, d]),
    layers: [],
    finalNorm: norm,
    pooler: { weight: floatTensor([1, 0, 0, 1], [d, d]), bias: null },
    head: {
      kind: 'classifier',
      fc1: { weight: floatTensor([1, 0, 0, 1, 1, 1, 0, 0], [4, d]), bias: null },
      norm: { weight: floatTensor([1, 1, 1, 1], [4]), bias: floatTensor([0, 0, 0, 0], [4]), eps: 1e-5 },
      fc2: { weight: floatTensor([1, 1, 1, 1], [1, 4]), bias: null },
    },
  } satisfies ViltWeights;
  return { geometry, weights };
}

describe('ViLT embeddings', () => {
  it('text: LayerNorm(word + position + type 0), then the text modality row', () => {
    const { geometry, weights } = tinyModel();
    const out = embedText(weights, geometry, intTensor([2, 1, 0], [1, 3]));
    expect(out.shape).toEqual([1, 3, 2]);
    // Token 0: word 2 = (5, 1) + pos0 (0, 0) + type0 (0.5, 0) = (5.5, 1) -> LayerNorm (1, -1) -> + (0, 0.25).
    expect(out.data[0]).toBeCloseTo(1, 6);
    expect(out.data[1]).toBeCloseTo(-0.75, 6);
    // Token 1: word 1 = (1, -1) + pos1 (0, 2) + (0.5, 0) = (1.5, 1) -> (1, -1) -> (1, -0.75).
    expect(out.data[2]).toBeCloseTo(1, 6);
    expect(out.data[3]).toBeCloseTo(-0.75, 6);
    expect(() => embedText(weights, geometry, intTensor([3], [1, 1]))).toThrow(/outside the vocabulary/);
    expect(() => embedText(weights, geometry, intTensor([0, 0, 0, 0, 0], [1, 5]))).toThrow(ShapeError);
  });

  it('image: [CLS] first, patches in row-major order, each + its position + the image modality row', () => {
    const { geometry, weights } = tinyModel();
    // 4x4 image, pixel value = 10*y + x.
    const pixels = floatTensor(
      Array.from({ length: 16 }, (_, i) => 10 * Math.floor(i / 4) + (i % 4)),
      [1, 1, 4, 4],
    );
    const out = embedImage(weights, geometry, pixels).x;
    expect(out.shape).toEqual([1, 5, 2]);
    const rows = Array.from({ length: 5 }, (_, r) => Array.from(out.data.subarray(r * 2, r * 2 + 2)));
    expect(rows[0]).toEqual([100 + 1 + 1000, 200 + 1]);
    // Patch (py, px): top-left pixel 20*py + 2*px, bottom-right 20*py + 2*px + 11 (+ bias 0.5).
    expect(rows[1]).toEqual([0 + 0 + 1000, 11.5 + 0]);
    expect(rows[2]).toEqual([2 + 10 + 1000, 13.5]);
    expect(rows[3]).toEqual([20 + 20 + 1000, 31.5]);
    expect(rows[4]).toEqual([22 + 30 + 1000, 33.5]);
  });

  it('image: a different patch grid gets bilinearly resized position embeddings', () => {
    const { geometry, weights } = tinyModel();
    const pixels = floatTensor(new Float32Array(2 * 6), [1, 1, 2, 6]); // 1x3 patch grid
    const out = embedImage(weights, geometry, pixels).x;
    expect(out.shape).toEqual([1, 4, 2]);
    const pos = interpolatePositionEmbeddings(weights.imagePositionEmbeddings, 1, 3).data;
    for (let t = 1; t < 4; t++) expect(out.data[t * 2]).toBeCloseTo(pos[t * 2] + 1000, 5);
    // align_corners=True over one output row samples the grid's top row: 0, 5, 10.
    expect([out.data[2], out.data[4], out.data[6]].map((v) => v - 1000)).toEqual([0, 5, 10]);
    expect(() => embedImage(weights, geometry, floatTensor(new Float32Array(15), [1, 1, 3, 5]))).toThrow(
      /multiples of the patch size/,
    );
    expect(() => embedImage(weights, geometry, floatTensor(new Float32Array(32), [1, 2, 4, 4]))).toThrow(
      /2 channels/,
    );
  });

  it('image with a pixel mask: each image keeps its valid patches, positions resized to its own grid, then masked padding', () => {
    const { geometry, weights } = tinyModel();
    // Two 4x6 images (a 2x3 patch grid), pixel value = 10*y + x; the second covers only its top-left 2x4 pixels.
    const one = Array.from({ length: 24 }, (_, i) => 10 * Math.floor(i / 6) + (i % 6));
    const pixels = floatTensor([...one, ...one], [2, 1, 4, 6]);
    const mask = intTensor(
      [...Array(24).fill(1), ...Array.from({ length: 24 }, (_, i) => (i < 12 && i % 6 < 4 ? 1 : 0))],
      [2, 4, 6],
    );
    const out = embedImage(weights, geometry, pixels, mask);
    expect(out.x.shape).toEqual([2, 7, 2]);
    expect(Array.from(out.mask.data)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
    // The full image's row is what it gives alone.
    expect(out.x.data.subarray(0, 14)).toEqual(
      embedImage(weights, geometry, floatTensor(one, [1, 1, 4, 6])).x.data,
    );
    const row = (t: number) => Array.from(out.x.data.subarray((7 + t) * 2, (7 + t) * 2 + 2));
    expect(row(0)).toEqual([100 + 1 + 1000, 200 + 1]);
    // Its 1x2 grid samples the trained 2x2 grid's top row: positions (0, 0) and (10, 0).
    expect(row(1)).toEqual([0 + 0 + 1000, 11.5]);
    expect(row(2)).toEqual([2 + 10 + 1000, 13.5]);
    // Padding: the first non-valid patches in row-major order, (0, 2) then (1, 0), with no position.
    expect(row(3)).toEqual([4 + 1000, 15.5]);
    expect(row(4)).toEqual([20 + 1000, 31.5]);
    // An all-ones mask is no mask.
    const ones = embedImage(weights, geometry, pixels, intTensor(Array(48).fill(1), [2, 4, 6]));
    expect(ones.x.data).toEqual(embedImage(weights, geometry, pixels).x.data);
    expect(() => embedImage(weights, geometry, pixels, intTensor(Array(48).fill(2), [2, 4, 6]))).toThrow(
      /must be 0 or 1/,
    );
    const hole = Array(48).fill(1);
    hole[24 + 6 * 2 + 2] = 0; // the second image's patch (1, 1) sampled as padding: not a rectangle
    expect(() => embedImage(weights, geometry, pixels, intTensor(hole, [2, 4, 6]))).toThrow(
      /top-left rectangle/,
    );
    expect(() => embedImage(weights, geometry, pixels, intTensor(Array(24).fill(1), [1, 4, 6]))).toThrow(
      ShapeError,
    );
  });

  it('joins text then image rows, with the text mask followed by ones', () => {
    const text = floatTensor([1, 1, 2, 2], [1, 2, 2]);
    const image = floatTensor([3, 3, 4, 4, 5, 5], [1, 3, 2]);
    const { x, mask } = joinModalities(text, image, intTensor([1, 0], [1, 2]));
    expect(Array.from(x.data)).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    expect(Array.from(mask.data)).toEqual([1, 0, 1, 1, 1]);
    expect(() => joinModalities(text, image, intTensor([1, 2], [1, 2]))).toThrow(PumerError);
    expect(() => joinModalities(text, image, intTensor([1, 1, 1], [1, 3]))).toThrow(ShapeError);
    const masked = joinModalities(text, image, intTensor([1, 1], [1, 2]), floatTensor([1, 1, 0], [1, 3]));
    expect(Array.from(masked.mask.data)).toEqual([1, 1, 1, 1, 0]);
  });
});
