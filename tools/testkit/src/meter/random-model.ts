import type {
  BertAttentionWeights,
  BertLayerWeights,
  CrossLayerWeights,
  LayerNormWeights,
  MeterGeometry,
  MeterModel,
  ViltTask,
} from '@pumer/core';
import { randomBlockWeights, randomLinear, randomTensor } from '../random.js';

/**
 * A small METER with random weights, for tests of the model path that need no checkpoint (input checks,
 * pass structure, step traces). Sizes are fixed and small: D 16, 2 heads, 2 steps, a 32×32 image in 16×16
 * patches (5 image tokens), 8-token window, vocabulary 20.
 */

function randomNorm(next: () => number, D: number, eps: number): LayerNormWeights {
  return { weight: randomTensor(next, [D], 0.5, 1.5), bias: randomTensor(next, [D], -0.1, 0.1), eps };
}

function randomBertAttention(next: () => number, D: number, eps: number): BertAttentionWeights {
  return {
    query: randomLinear(next, D, D),
    key: randomLinear(next, D, D),
    value: randomLinear(next, D, D),
    output: randomLinear(next, D, D),
    norm: randomNorm(next, D, eps),
  };
}

function randomFeedForward(next: () => number, D: number, F: number, eps: number) {
  return {
    intermediate: randomLinear(next, F, D),
    output: randomLinear(next, D, F),
    norm: randomNorm(next, D, eps),
  };
}

/** One co-attention layer of width D and feed-forward width F. */
export function randomCrossLayerWeights(
  next: () => number,
  D: number,
  F: number,
  eps = 1e-12,
): CrossLayerWeights {
  return {
    attention: randomBertAttention(next, D, eps),
    crossAttention: randomBertAttention(next, D, eps),
    feedForward: randomFeedForward(next, D, F, eps),
  };
}

/** A random METER for `task` (nlvr2: two images and a classifier over both passes; retrieval: rank head). */
export function randomMeterModel(next: () => number, task: ViltTask = 'vqa'): MeterModel {
  const D = 16;
  const numImages = task === 'nlvr2' ? 2 : 1;
  const numLabels = task === 'vqa' ? 5 : task === 've' ? 3 : task === 'nlvr2' ? 2 : 1;
  const geometry: MeterGeometry = {
    hiddenSize: D,
    numHeads: 2,
    intermediateSize: 2 * D,
    numSteps: 2,
    crossLayerNormEps: 1e-12,
    maxTextLength: 8,
    text: {
      numLayers: 1,
      hiddenSize: 12,
      numHeads: 2,
      intermediateSize: 24,
      layerNormEps: 1e-5,
      vocabSize: 20,
      maxPositions: 10,
      padTokenId: 1,
    },
    image: { width: 8, numBlocks: 1, numHeads: 2, patchSize: 16, imageSize: 32, layerNormEps: 1e-5 },
    numLabels,
    numImages,
  };
  const t = geometry.text;
  const im = geometry.image;
  const textLayer = (): BertLayerWeights => ({
    attention: randomBertAttention(next, t.hiddenSize, t.layerNormEps),
    feedForward: randomFeedForward(next, t.hiddenSize, t.intermediateSize, t.layerNormEps),
  });
  const two = 2 * D;
  return {
    kind: 'meter',
    id: `random-meter-${task}`,
    geometry,
    weights: {
      textEncoder: {
        wordEmbeddings: randomTensor(next, [t.vocabSize, t.hiddenSize]),
        positionEmbeddings: randomTensor(next, [t.maxPositions, t.hiddenSize]),
        tokenTypeEmbeddings: randomTensor(next, [1, t.hiddenSize]),
        embeddingNorm: randomNorm(next, t.hiddenSize, t.layerNormEps),
        layers: Array.from({ length: t.numLayers }, textLayer),
      },
      imageEncoder: {
        classEmbedding: randomTensor(next, [im.width]),
        positionEmbeddings: randomTensor(next, [(im.imageSize / im.patchSize) ** 2 + 1, im.width]),
        patchProjection: randomTensor(next, [im.width, 3, im.patchSize, im.patchSize], -0.05, 0.05),
        preNorm: randomNorm(next, im.width, im.layerNormEps),
        blocks: Array.from({ length: im.numBlocks }, () => randomBlockWeights(next, im.width, 4 * im.width)),
        postNorm: randomNorm(next, im.width, im.layerNormEps),
      },
      textTransform: randomLinear(next, D, t.hiddenSize),
      imageTransform: randomLinear(next, D, im.width),
      tokenTypeEmbeddings: randomTensor(next, [numImages + 1, D]),
      steps: Array.from({ length: geometry.numSteps }, () => ({
        text: randomCrossLayerWeights(next, D, geometry.intermediateSize),
        image: randomCrossLayerWeights(next, D, geometry.intermediateSize),
      })),
      textPooler: randomLinear(next, D, D),
      imagePooler: randomLinear(next, D, D),
      head:
        task === 'retrieval'
          ? { kind: 'rank', rank: randomLinear(next, 1, two) }
          : {
              kind: 'classifier',
              fc1: randomLinear(next, two, two * numImages),
              norm: randomNorm(next, two, 1e-5),
              fc2: randomLinear(next, numLabels, two),
            },
    },
    labels: Array.from({ length: numLabels }, (_, i) => `label${i}`),
    task,
  };
}
