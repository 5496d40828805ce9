import { floatTensor, seededRandom, type ViltHead, type ViltModel, type ViltTask } from '@pumer/core';

/**
 * A three-layer ViLT with hidden size 8 and seeded random weights (16x16 images, 4x4 patches, 6 text tokens)
 * and the head of `task`: VQA and VE a classifier with 3 outputs, NLVR2 two images per example (3 modality
 * rows, a classifier over both pooled outputs, 2 classes), retrieval a rank head. The encoder weights are
 * the same for every task.
 */
export function tinyModel(id: string, task: ViltTask = 'vqa'): ViltModel {
  const d = 8;
  const next = seededRandom(7);
  const r = (shape: number[]) =>
    floatTensor(
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (next() - 0.5) * 0.4),
      shape,
    );
  const lin = (o: number, i: number) => ({ weight: r([o, i]), bias: r([o]) });
  const ln = (n = d) => ({ weight: floatTensor(new Float32Array(n).fill(1), [n]), bias: r([n]), eps: 1e-12 });
  const numImages = task === 'nlvr2' ? 2 : 1;
  const encoder = {
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
  };
  const labels = {
    vqa: ['a', 'b', 'c'],
    ve: ['no', 'maybe', 'yes'],
    nlvr2: ['False', 'True'],
    retrieval: ['score'],
  }[task];
  const head: ViltHead =
    task === 'retrieval'
      ? { kind: 'rank', rank: lin(1, d) }
      : {
          kind: 'classifier',
          fc1: lin(2 * d, numImages * d),
          norm: ln(2 * d),
          fc2: lin(labels.length, 2 * d),
        };
  // NLVR2's second image has its own modality row.
  const modalityEmbeddings =
    numImages === 2
      ? floatTensor(Float32Array.from([...encoder.modalityEmbeddings.data, ...r([d]).data]), [3, d])
      : encoder.modalityEmbeddings;
  return {
    id,
    task,
    labels,
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
      numLabels: labels.length,
      numImages,
    },
    weights: { ...encoder, modalityEmbeddings, head },
  };
}
