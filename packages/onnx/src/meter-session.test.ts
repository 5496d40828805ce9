import {
  floatTensor,
  intTensor,
  type MeterInputs,
  type MeterModel,
  type ReductionConfig,
  seededRandom,
} from '@pumer/core';
import { randomCrossLayerWeights, randomMeterModel, randomTensor } from '@pumer/testkit';
import { describe, expect, it } from 'vitest';
import { RecordingRuntime } from './recording-runtime.test-helpers.js';
import { OrtGraphBackend } from './ort-backend.js';

const SCHEDULE: ReductionConfig = {
  reduceLayers: [0],
  pruneRatio: 0.4,
  mergeRatio: 0.4,
  textMergeRatio: 0.3,
  saliency: 'mean_head',
  mergeStyle: 'tome',
};

function inputs(model: MeterModel, b: number, t: number): MeterInputs {
  const s = model.geometry.image.imageSize;
  return {
    inputIds: intTensor(
      Int32Array.from({ length: b * t }, (_, i) => 3 + (i % 11)),
      [b, t],
    ),
    attentionMask: intTensor(new Int32Array(b * t).fill(1), [b, t]),
    pixelValues: floatTensor(
      Float32Array.from({ length: b * 3 * s * s }, (_, i) => Math.sin(i)),
      [b, 3, s, s],
    ),
  };
}

describe('METER sessions of OrtGraphBackend', () => {
  it('compiles one whole-model graph per text length and schedule, evicts the oldest, releases all on dispose', async () => {
    const runtime = new RecordingRuntime();
    const backend = new OrtGraphBackend('test', runtime, { modelCacheSize: 2 });
    const model = randomMeterModel(seededRandom(1), 'vqa');
    const first = await backend.runMeter(model, inputs(model, 2, 8), SCHEDULE);
    // METER ignores the saliency method and merge style: the same graph serves.
    const again = await backend.runMeter(model, inputs(model, 2, 8), {
      ...SCHEDULE,
      saliency: 'first_head',
      mergeStyle: 'tip',
    });
    expect(again.logits.data).toEqual(first.logits.data);
    expect(first.steps.map((s) => s.kind)).toEqual(['pumer', 'none']);
    expect(runtime.created.map((c) => c.kind)).toEqual(['meter']);
    await backend.runMeter(model, inputs(model, 1, 6), SCHEDULE); // another text length
    await backend.runMeter(model, inputs(model, 1, 6), null); // another schedule: the first graph is dropped
    expect(runtime.created.map((c) => c.label.split('|').pop())).toEqual([
      'L0_p0.4_m0.4_t0.3_mean_head_tome_tome0',
      'L0_p0.4_m0.4_t0.3_mean_head_tome_tome0',
      'unreduced',
    ]);
    expect(runtime.created.map((c) => c.label.split('|').at(-2))).toEqual(['T8', 'T6', 'T6']);
    await Promise.resolve();
    expect(runtime.released).toBe(1);
    await backend.dispose();
    expect(runtime.released).toBe(3);
  });

  it('does not keep a failed compile: the next call compiles again', async () => {
    const runtime = new RecordingRuntime();
    const backend = new OrtGraphBackend('test', runtime);
    const model = randomMeterModel(seededRandom(1), 'vqa');
    runtime.failKind = 'meter';
    await expect(backend.runMeter(model, inputs(model, 1, 8), null)).rejects.toThrow(/no session/);
    runtime.failKind = null;
    const out = await backend.runMeter(model, inputs(model, 1, 8), null);
    expect(out.logits.shape).toEqual([1, 5]);
    expect(runtime.created.length).toBe(2);
    await backend.dispose();
  });

  it('runs a co-attention step once compiled per plan; a step that keeps its image has no kept indices', async () => {
    const runtime = new RecordingRuntime();
    const backend = new OrtGraphBackend('test', runtime);
    const next = seededRandom(4);
    const weights = {
      text: randomCrossLayerWeights(next, 8, 16),
      image: randomCrossLayerWeights(next, 8, 16),
    };
    const args = {
      weights,
      numHeads: 2,
      layerNormEps: 1e-12,
      text: randomTensor(next, [1, 6, 8]),
      textMask: floatTensor(Float32Array.from([1, 1, 1, 1, 0.5, 0]), [1, 6]),
      image: randomTensor(next, [1, 7, 8]),
      imageMask: floatTensor(new Float32Array(7).fill(1), [1, 7]),
      config: SCHEDULE,
      step: 0,
    };
    const reduced = await backend.runCoAttentionStep(args);
    expect(reduced.plan).toMatchObject({ kind: 'pumer', keep: 4, imageOut: 3, textOut: 4 });
    expect(reduced.image.shape).toEqual([1, 3, 8]);
    expect(reduced.trace.keepIdx?.shape).toEqual([1, 4]);
    expect(reduced.textToImageAttn.shape).toEqual([1, 2, 6, 7]);
    expect(reduced.imageToTextAttn.shape).toEqual([1, 2, 3, 4]);
    // A merge ratio that rounds to 0: the pruning is discarded, the image passes unchanged.
    const kept = await backend.runCoAttentionStep({ ...args, config: { ...SCHEDULE, mergeRatio: 0.05 } });
    expect(kept.plan).toMatchObject({ kind: 'pumer', imageReduced: false, imageOut: 7 });
    expect(kept.imageReduced.data).toEqual(args.image.data);
    expect(kept.trace.keepIdx).toBeUndefined();
    expect(kept.trace.imageSaliency?.shape).toEqual([1, 7]);
    await backend.runCoAttentionStep(args);
    expect(runtime.created.map((c) => c.kind)).toEqual(['block', 'block']);
    await backend.dispose();
    expect(runtime.released).toBe(2);
  });
});
