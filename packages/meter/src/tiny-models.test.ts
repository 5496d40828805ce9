import { kernels } from '@pumer/backend-cpu';
import { floatTensor, resolveBackend } from '@pumer/core';
import { Comparison, compareMeterOutputs, type MeterRunExpectation } from '@pumer/testkit';
import { METER_MODELS, meterModelDir, readMeterModelCases } from '@pumer/testkit/node';
import { describe, expect, it } from 'vitest';
import { loadMeter } from './node.js';

// The three tiny METER checkpoints against the authors' runs of them (cases.json): logits and cls_feats within
// 1e-4 + 1e-4·|want|, the token counts of every step exact, with the task's schedule and without.
describe.each(METER_MODELS)('%s on cpu', (name) => {
  const cases = readMeterModelCases(name);
  const loaded = loadMeter(meterModelDir(name));
  const run = async (config: typeof cases.config | null, want: MeterRunExpectation) => {
    const backend = await resolveBackend('cpu');
    const got = await backend.runMeter(loaded.model, cases.inputs, config);
    const cmp = compareMeterOutputs(got, want);
    expect(cmp.problems).toEqual([]);
    return got;
  };
  it('reads the checkpoint schedule as the cases do (step indices)', () => {
    expect(loaded.reduction).toMatchObject({
      reduceLayers: cases.config.reduceLayers,
      pruneRatio: cases.config.pruneRatio,
      mergeRatio: cases.config.mergeRatio,
      textMergeRatio: cases.config.textMergeRatio,
    });
  });
  it("runs the encoders as the authors' RoBERTa and CLIP ViT do", () => {
    const { model } = loaded;
    const g = model.geometry;
    const [B, T] = cases.inputs.inputIds.shape as [number, number];
    const cmp = new Comparison();
    const text = kernels.textEncoder(
      model.weights.textEncoder,
      g.text,
      cases.inputs.inputIds,
      cases.inputs.attentionMask,
    );
    const S = g.image.imageSize;
    const plane = 3 * S * S;
    cases.encoders.forEach((want, k) => {
      cmp.tensor(
        `pass ${k} text_encoder_out`,
        floatTensor(Float32Array.from(text), [B, T, g.text.hiddenSize]),
        want.textEncoderOut,
      );
      const pixels = new Float32Array(B * plane);
      for (let b = 0; b < B; b++) {
        const from = (b * g.numImages + k) * plane;
        pixels.set(cases.inputs.pixelValues.data.subarray(from, from + plane), b * plane);
      }
      const vit = kernels.imageEncoder(model.weights.imageEncoder, g.image, pixels, B);
      cmp.tensor(`pass ${k} vit_out`, floatTensor(Float32Array.from(vit), want.vitOut.shape), want.vitOut);
    });
    expect(cmp.problems).toEqual([]);
  });
  it('matches the reduced run', () => run(cases.config, cases.reduced));
  it('matches the unreduced run, which the reduced expectation rejects', async () => {
    const got = await run(null, cases.unreduced);
    expect(compareMeterOutputs(got, cases.reduced).ok).toBe(false);
  });
});
