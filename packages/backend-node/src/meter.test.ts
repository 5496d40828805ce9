import { createCpuBackend } from '@pumer/backend-cpu';
import { floatTensor, intTensor, type MeterInputs, type MeterModel, seededRandom } from '@pumer/core';
import {
  compareMeterOutputs,
  compareTraces,
  maxAbsDiff,
  randomMeterModel,
  runMeterGoldenDocument,
} from '@pumer/testkit';
import {
  hasSharedData,
  METER_MODELS,
  meterGoldenFiles,
  meterModelDir,
  readMeterGoldenDocument,
  readMeterModelCases,
} from '@pumer/testkit/node';
import { loadMeter } from '@pumer/meter/node';
import { afterAll, describe, expect, it } from 'vitest';
import { createNodeBackend } from './backend.js';

// METER on onnxruntime-node (docs/meter.md, "Reference data"): every golden co-attention step, and the three
// tiny checkpoints against the authors' runs, through the graphs of @pumer/onnx's meter/.
const present = hasSharedData('meter');

describe.skipIf(!present)('METER on onnxruntime-node', async () => {
  const backend = await createNodeBackend({ provider: 'cpu' });
  afterAll(() => backend.dispose());
  const files = present ? meterGoldenFiles() : [];

  it('finds the golden co-attention steps', () => {
    expect(files.length).toBeGreaterThanOrEqual(11);
  });

  it.each(files)('%s', async (file) => {
    const r = await runMeterGoldenDocument(readMeterGoldenDocument(file), file, backend);
    expect(r.reason ?? '').toBe('');
    expect(r.passed).toBe(true);
  });

  describe.each(present ? METER_MODELS : [])('%s', (name) => {
    const cases = readMeterModelCases(name);
    const { model } = loadMeter(meterModelDir(name));

    it('matches the reduced run (logits, cls_feats, every step count)', async () => {
      const got = await backend.runMeter(model, cases.inputs, cases.config);
      expect(compareMeterOutputs(got, cases.reduced).problems).toEqual([]);
      // The steps that reduce say how they merged the text, per pass.
      const batch = cases.inputs.inputIds.shape[0];
      for (const steps of got.passes ?? [got.steps])
        for (const s of steps) if (s.kind === 'pumer') expect(s.textDst?.shape).toEqual([batch, s.textIn]);
    });

    it('matches the unreduced run, which the reduced expectation rejects', async () => {
      const got = await backend.runMeter(model, cases.inputs, null);
      expect(compareMeterOutputs(got, cases.unreduced).problems).toEqual([]);
      expect(compareMeterOutputs(got, cases.reduced).ok).toBe(false);
    });
  });
});

/** A batch of B rows for `model`: ids with some padding, all-finite pixels. */
function randomInputs(model: MeterModel, B: number, T: number, next: () => number): MeterInputs {
  const geo = model.geometry;
  const S = geo.image.imageSize;
  const ids = new Int32Array(B * T);
  const mask = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const len = T - b; // row b has b pads
    for (let i = 0; i < T; i++) {
      ids[b * T + i] = i === 0 ? 0 : i < len ? 3 + Math.floor(next() * (geo.text.vocabSize - 3)) : 1;
      mask[b * T + i] = i < len ? 1 : 0;
    }
  }
  const dims = geo.numImages === 1 ? [B, 3, S, S] : [B, geo.numImages, 3, S, S];
  const pixels = Float32Array.from({ length: dims.reduce((a, c) => a * c, 1) }, () => 2 * next() - 1);
  return {
    inputIds: intTensor(ids, [B, T]),
    attentionMask: intTensor(mask, [B, T]),
    pixelValues: floatTensor(pixels, dims),
  };
}

// Heads and schedules the tiny checkpoints do not cover (retrieval's rank head; a step pruned without merging),
// against the CPU reference on random weights: logits within 1e-4, every trace index identical.
describe('METER on onnxruntime-node against the CPU reference (random weights)', async () => {
  const backend = await createNodeBackend({ provider: 'cpu' });
  afterAll(() => backend.dispose());
  const cpu = createCpuBackend();
  const schedule = {
    reduceLayers: [0, 1],
    pruneRatio: 0.4,
    mergeRatio: 0.4,
    textMergeRatio: 0.3,
    saliency: 'mean_head',
    mergeStyle: 'tome',
  } as const;

  it.each(['vqa', 'nlvr2', 'retrieval'] as const)('%s', async (task) => {
    const next = seededRandom(11);
    const model = randomMeterModel(next, task);
    const inputs = randomInputs(model, 3, 8, next);
    for (const config of [schedule, null]) {
      const got = await backend.runMeter(model, inputs, config);
      const want = await cpu.runMeter(model, inputs, config);
      expect(maxAbsDiff(got.logits, want.logits)).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(got.clsFeats, want.clsFeats)).toBeLessThanOrEqual(1e-4);
      const passes = got.passes ?? [got.steps];
      const wantPasses = want.passes ?? [want.steps];
      expect(passes.length).toBe(model.geometry.numImages);
      expect(passes.map((steps, p) => compareTraces(steps, wantPasses[p]!))).toEqual(passes.map(() => null));
    }
  });

  it('refuses what the CPU backend refuses, with the same error', async () => {
    const model = randomMeterModel(seededRandom(2), 'vqa');
    const inputs = randomInputs(model, 1, 9, seededRandom(3)); // 9 tokens: past the 8-token window
    const refusal = (p: Promise<unknown>) =>
      p.then(
        () => 'accepted',
        (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`,
      );
    const got = await refusal(backend.runMeter(model, inputs, null));
    expect(got).not.toBe('accepted');
    expect(got).toBe(await refusal(cpu.runMeter(model, inputs, null)));
  });
});
