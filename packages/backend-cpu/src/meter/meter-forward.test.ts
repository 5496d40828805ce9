import {
  ConfigError,
  floatTensor,
  intTensor,
  type MeterInputs,
  type MeterModel,
  PumerError,
  planCoAttentionStep,
  type ReductionConfig,
  ShapeError,
  seededRandom,
} from '@pumer/core';
import { randomMeterModel, randomTensor } from '@pumer/testkit';
import { describe, expect, it } from 'vitest';
import { meterForward } from './meter-forward.js';

const schedule: ReductionConfig = {
  reduceLayers: [0, 1],
  pruneRatio: 0.3,
  mergeRatio: 0.3,
  textMergeRatio: 0.3,
  saliency: 'mean_head',
  mergeStyle: 'tome',
};

function batch(model: MeterModel, seed: number): MeterInputs {
  const next = seededRandom(seed);
  const S = model.geometry.image.imageSize;
  const ids = [0, 5, 9, 7, 2, 1, 1, 0, 4, 6, 11, 13, 3, 2];
  const mask = ids.map((id, i) => (id === 1 && i < 7 ? 0 : 1));
  const pixelShape = model.geometry.numImages === 1 ? [2, 3, S, S] : [2, 2, 3, S, S];
  return {
    inputIds: intTensor(ids, [2, 7]),
    attentionMask: intTensor(mask, [2, 7]),
    pixelValues: randomTensor(next, pixelShape),
  };
}

describe('meterForward on a random METER', () => {
  const vqa = randomMeterModel(seededRandom(1), 'vqa');
  const inputs = batch(vqa, 2);

  it('follows core plan step by step and returns logits and cls_feats', () => {
    const out = meterForward(vqa, inputs, schedule);
    expect(out.logits.shape).toEqual([2, 5]);
    expect(out.clsFeats.shape).toEqual([2, 32]);
    expect(out.passes).toBeUndefined();
    let t = 7;
    let i = 5;
    out.steps.forEach((s, step) => {
      const plan = planCoAttentionStep(schedule, step, t, i);
      expect(s).toMatchObject({
        layer: step,
        kind: plan.kind,
        textOut: plan.textOut,
        imageOut: plan.imageOut,
      });
      t = plan.textOut;
      i = plan.imageOut;
    });
    expect(out.steps.map((s) => [s.textOut, s.imageOut])).toEqual([
      [5, 2],
      [3, 1], // keep 1: the merge asked for has nothing to merge, the step prunes only
    ]);
  });

  it('without a schedule keeps every token', () => {
    const out = meterForward(vqa, inputs, null);
    expect(out.steps.every((s) => s.kind === 'none' && s.textOut === 7 && s.imageOut === 5)).toBe(true);
  });

  it('NLVR2 runs pass k on image k with token type k + 1 and concatenates both passes', () => {
    const nlvr2 = randomMeterModel(seededRandom(3), 'nlvr2');
    const both = batch(nlvr2, 4);
    const out = meterForward(nlvr2, both, schedule);
    expect(out.clsFeats.shape).toEqual([2, 64]);
    expect(out.passes).toHaveLength(2);
    expect(out.steps).toBe(out.passes![0]);
    // The second pass alone: a one-image model whose image token type is NLVR2's row 2, fed image 2.
    const w = nlvr2.weights;
    const D = nlvr2.geometry.hiddenSize;
    const types = w.tokenTypeEmbeddings.data;
    const single: MeterModel = {
      ...nlvr2,
      geometry: { ...nlvr2.geometry, numImages: 1 },
      weights: {
        ...w,
        tokenTypeEmbeddings: floatTensor([...types.subarray(0, D), ...types.subarray(2 * D, 3 * D)], [2, D]),
        head: {
          kind: 'rank',
          rank: { weight: floatTensor(new Float32Array(2 * D), [1, 2 * D]), bias: null },
        },
      },
    };
    const S = nlvr2.geometry.image.imageSize;
    const plane = 3 * S * S;
    const second = new Float32Array(2 * plane);
    for (let b = 0; b < 2; b++)
      second.set(both.pixelValues.data.subarray((2 * b + 1) * plane, (2 * b + 2) * plane), b * plane);
    const alone = meterForward(single, { ...both, pixelValues: floatTensor(second, [2, 3, S, S]) }, schedule);
    for (let b = 0; b < 2; b++) {
      const want = alone.clsFeats.data.subarray(b * 2 * D, (b + 1) * 2 * D);
      const got = out.clsFeats.data.subarray(b * 4 * D + 2 * D, (b + 1) * 4 * D);
      expect(Array.from(got)).toEqual(Array.from(want));
    }
    expect(alone.steps).toEqual(out.passes![1]);
  });

  it('retrieval scores [B, 1] with the rank head', () => {
    const retrieval = randomMeterModel(seededRandom(5), 'retrieval');
    expect(meterForward(retrieval, batch(retrieval, 6), null).logits.shape).toEqual([2, 1]);
  });
});

describe('meterForward rejects bad input with a PumerError', () => {
  const model = randomMeterModel(seededRandom(7), 'vqa');
  const good = batch(model, 8);
  const S = model.geometry.image.imageSize;
  it.each([
    [
      'an id outside the vocabulary',
      { inputIds: intTensor([0, 5, 20, 2, 1, 1, 1, 0, 4, 6, 11, 13, 3, 2], [2, 7]) },
      PumerError,
      /inputIds\[0, 2\] = 20 is outside the vocabulary/,
    ],
    [
      'a mask value of 2',
      { attentionMask: intTensor([1, 1, 2, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1], [2, 7]) },
      PumerError,
      /attentionMask\[0, 2\] = 2/,
    ],
    [
      'more tokens than the window',
      {
        inputIds: intTensor(new Array(18).fill(3), [2, 9]),
        attentionMask: intTensor(new Array(18).fill(1), [2, 9]),
      },
      ShapeError,
      /more than the model's text window of 8/,
    ],
    [
      'a float mask',
      { attentionMask: floatTensor(new Float32Array(14).fill(1), [2, 7]) },
      ShapeError,
      /attentionMask must be an int32 tensor/,
    ],
    [
      'pixels of another size',
      { pixelValues: randomTensor(seededRandom(1), [2, 3, S, S + 16]) },
      ShapeError,
      /pixelValues has shape/,
    ],
  ])('%s', (_label, patch, type, message) => {
    const inputs = { ...good, ...patch } as MeterInputs;
    expect(() => meterForward(model, inputs, null)).toThrow(type);
    expect(() => meterForward(model, inputs, null)).toThrow(message);
  });
  it('non-finite pixels', () => {
    const pixels = floatTensor(good.pixelValues.data.slice(), good.pixelValues.shape);
    pixels.data[10] = Number.POSITIVE_INFINITY;
    expect(() => meterForward(model, { ...good, pixelValues: pixels }, null)).toThrow(
      /pixelValues contains a non-finite value/,
    );
  });
  it('a schedule step past the last one is a ConfigError', () => {
    expect(() => meterForward(model, good, { ...schedule, reduceLayers: [2] })).toThrow(ConfigError);
    expect(() => meterForward(model, good, { ...schedule, reduceLayers: [2] })).toThrow(
      /layer 2 is out of range \(must be in \[0, 1\]\)/,
    );
  });
  it('weights that disagree with the geometry', () => {
    const broken = { ...model, weights: { ...model.weights, steps: model.weights.steps.slice(0, 1) } };
    expect(() => meterForward(broken, good, null)).toThrow(
      /model has 1 co-attention steps but its geometry says 2/,
    );
  });
});
