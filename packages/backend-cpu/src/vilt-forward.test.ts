import {
  type BlockWeights,
  floatTensor,
  intTensor,
  namedSchedule,
  type ReductionConfig,
  ShapeError,
  schedule,
  seededRandom,
  type ViltGeometry,
  type ViltModel,
} from '@pumer/core';
import { describe, expect, it } from 'vitest';
import { viltForward } from './vilt-forward.js';

/** A small random ViLT (seeded), enough layers for the paper schedule. */
function randomVilt(): ViltModel {
  const next = seededRandom(12345);
  const rand = () => next() - 0.5;
  const t = (shape: number[], scale = 0.2) =>
    floatTensor(
      Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() * scale),
      shape,
    );
  const norm = (d: number, eps: number) => ({ weight: t([d], 0.1), bias: t([d], 0.1), eps });
  const geometry: ViltGeometry = {
    hiddenSize: 16,
    numLayers: 9,
    numHeads: 2,
    intermediateSize: 32,
    layerNormEps: 1e-12,
    vocabSize: 11,
    maxTextLength: 8,
    imageSize: 16,
    patchSize: 4,
    numChannels: 3,
    numLabels: 5,
    numImages: 1,
  };
  const d = geometry.hiddenSize;
  const lin = (o: number, i: number) => ({ weight: t([o, i]), bias: t([o], 0.05) });
  const block = (): BlockWeights => ({
    norm1: { ...norm(d, 1e-12), weight: floatTensor(new Float32Array(d).fill(1), [d]) },
    query: lin(d, d),
    key: lin(d, d),
    value: lin(d, d),
    proj: lin(d, d),
    norm2: { ...norm(d, 1e-12), weight: floatTensor(new Float32Array(d).fill(1), [d]) },
    fc1: lin(32, d),
    fc2: lin(d, 32),
  });
  return {
    id: 'random-vilt',
    geometry,
    labels: ['a', 'b', 'c', 'd', 'e'],
    task: 'vqa',
    weights: {
      wordEmbeddings: t([11, d], 1),
      textPositionEmbeddings: t([8, d]),
      textTokenTypeEmbeddings: t([2, d]),
      textNorm: norm(d, 1e-12),
      clsToken: t([d]),
      imagePositionEmbeddings: t([17, d]),
      patchProjection: { weight: t([d, 3, 4, 4]), bias: t([d]) },
      modalityEmbeddings: t([2, d]),
      layers: Array.from({ length: 9 }, block),
      finalNorm: norm(d, 1e-12),
      pooler: lin(d, d),
      head: { kind: 'classifier', fc1: lin(2 * d, d), norm: norm(2 * d, 1e-5), fc2: lin(5, 2 * d) },
    },
  };
}

const model = randomVilt();
const pixels = (batch: number, h = 16, w = 16) =>
  floatTensor(
    Array.from({ length: batch * 3 * h * w }, (_, i) => Math.sin(i * 0.37)),
    [batch, 3, h, w],
  );
const ids = intTensor([2, 5, 7, 3, 0, 0, 0, 0, 2, 9, 4, 6, 8, 3, 0, 0], [2, 8]);
const mask = intTensor([1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0], [2, 8]);

// The paper's schedule as it stands on the 12-layer ViLT: reduce layers 2, 5, 8.
const PAPER = namedSchedule('paper', 12)!;

describe('viltForward', () => {
  it('runs every layer with the schedule, token counts exactly as core schedule() plans them', () => {
    const out = viltForward(model, { inputIds: ids, attentionMask: mask, pixelValues: pixels(2) }, PAPER);
    expect(out.logits.shape).toEqual([2, 5]);
    expect(out.logits.data.every(Number.isFinite)).toBe(true);
    const g = model.geometry;
    const plan = schedule({ ...g, textTokens: 8, imageTokens: 17 }, PAPER);
    expect(out.layers.map((l) => [l.kind, l.textIn, l.imageIn, l.textOut, l.imageOut])).toEqual(
      plan.layers.map((l) => [l.plan.kind, l.plan.textIn, l.plan.imageIn, l.textTokens, l.imageTokens]),
    );
    expect(out.layers.filter((l) => l.kind === 'pumer').map((l) => l.layer)).toEqual([2, 5, 8]);
  });

  it('treats each example of a batch independently', () => {
    const both = viltForward(model, { inputIds: ids, attentionMask: mask, pixelValues: pixels(2) }, PAPER);
    const px = pixels(2);
    const second = viltForward(
      model,
      {
        inputIds: intTensor(ids.data.subarray(8), [1, 8]),
        attentionMask: intTensor(mask.data.subarray(8), [1, 8]),
        pixelValues: floatTensor(px.data.subarray(3 * 256), [1, 3, 16, 16]),
      },
      PAPER,
    );
    for (let k = 0; k < 5; k++) expect(second.logits.data[k]).toBeCloseTo(both.logits.data[5 + k], 5);
  });

  it('runs unreduced with null, and on a patch grid other than the trained one', () => {
    const out = viltForward(
      model,
      { inputIds: ids, attentionMask: mask, pixelValues: pixels(2, 8, 24) },
      null,
    );
    expect(out.layers.every((l) => l.kind === 'none' && l.imageIn === 1 + 2 * 6)).toBe(true);
    const reduced = viltForward(model, { inputIds: ids, attentionMask: mask, pixelValues: pixels(2) }, PAPER);
    const plain = viltForward(model, { inputIds: ids, attentionMask: mask, pixelValues: pixels(2) }, null);
    expect(Array.from(reduced.logits.data)).not.toEqual(Array.from(plain.logits.data));
  });

  it('rejects inputs that do not fit together or the schedule', () => {
    const px = pixels(2);
    expect(() =>
      viltForward(model, { inputIds: ids, attentionMask: intTensor([1, 1], [1, 2]), pixelValues: px }, null),
    ).toThrow(ShapeError);
    expect(() =>
      viltForward(model, { inputIds: ids, attentionMask: mask, pixelValues: pixels(1) }, null),
    ).toThrow(ShapeError);
    const tooDeep: ReductionConfig = { ...PAPER, reduceLayers: [9] };
    expect(() =>
      viltForward(model, { inputIds: ids, attentionMask: mask, pixelValues: px }, tooDeep),
    ).toThrow(/out of range/);
  });
});
