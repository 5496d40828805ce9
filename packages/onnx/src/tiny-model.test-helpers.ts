import { floatTensor, seededRandom, type ViltModel } from '@pumer/core';

/** A three-layer ViLT with hidden size 8 and seeded random weights (16x16 images, 4x4 patches, 6 text tokens). */
export function tinyModel(id: string): ViltModel {
  const d = 8;
  const next = seededRandom(7);
  const r = (shape: number[]) =>
    floatTensor(
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (next() - 0.5) * 0.4),
      shape,
    );
  const lin = (o: number, i: number) => ({ weight: r([o, i]), bias: r([o]) });
  const ln = (n = d) => ({ weight: floatTensor(new Float32Array(n).fill(1), [n]), bias: r([n]), eps: 1e-12 });
  return {
    id,
    labels: ['a', 'b', 'c'],
    geometry: {
      hiddenSize: d,
      numLayers: 3,
      numHeads: 2,
      intermediateSize: 16,
      layerNormEps: 1e-12,
      vocabSize: 11,
      maxTextLength: 6,
      imageSize: 16,
      patchSize: 4,
      numChannels: 3,
      numLabels: 3,
    },
    weights: {
      wordEmbeddings: r([11, d]),
      textPositionEmbeddings: r([6, d]),
      textTokenTypeEmbeddings: r([2, d]),
      textNorm: ln(),
      clsToken: r([d]),
      imagePositionEmbeddings: r([17, d]),
      patchProjection: { weight: r([d, 3, 4, 4]), bias: r([d]) },
      modalityEmbeddings: r([2, d]),
      layers: Array.from({ length: 3 }, () => ({
        norm1: ln(),
        query: lin(d, d),
        key: lin(d, d),
        value: lin(d, d),
        proj: lin(d, d),
        norm2: ln(),
        fc1: lin(16, d),
        fc2: lin(d, 16),
      })),
      finalNorm: ln(),
      pooler: lin(d, d),
      classifier: { fc1: lin(2 * d, d), norm: ln(2 * d), fc2: lin(3, 2 * d) },
    },
  };
}
