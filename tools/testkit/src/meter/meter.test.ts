import { PumerError } from '@pumer/core';
import { describe, expect, it } from 'vitest';
import { coAttentionStepArgsFromGolden, parseMeterGoldenCase } from './golden.js';
import { parseMeterModelCases } from './model-cases.js';
import { meterGoldenFiles, parsePythonJson, readMeterGoldenDocument, readMeterModelCases } from './files.js';

describe('parsePythonJson', () => {
  it('reads bare Infinity, -Infinity and NaN values, and leaves strings alone', () => {
    expect(parsePythonJson('{"a":Infinity,"b":[-Infinity, NaN],"c":"Infinity"}')).toEqual({
      a: Number.POSITIVE_INFINITY,
      b: [Number.NEGATIVE_INFINITY, null],
      c: 'Infinity',
    });
  });
});

describe('meter_cross_layer cases', () => {
  const file = 'meter_cross0_p0.2_r0.2_t0.2_B2_T12_I17.json';
  it('reads every file of the reference data', () => {
    for (const f of meterGoldenFiles())
      expect(() => parseMeterGoldenCase(readMeterGoldenDocument(f), f)).not.toThrow();
  });
  it("maps the authors' names onto both layers and reads the schedule for step 0", () => {
    const c = parseMeterGoldenCase(readMeterGoldenDocument(file), file);
    const args = coAttentionStepArgsFromGolden(c);
    const w = c.weights;
    expect(args.weights.text.crossAttention.key.weight.data[3]).toBe(
      Math.fround(w['cross_modal_text_layers.0.crossattention.self.key.weight']!.data[3]!),
    );
    expect(args.weights.image.feedForward.norm.bias.data[1]).toBe(
      Math.fround(w['cross_modal_image_layers.0.output.LayerNorm.bias']!.data[1]!),
    );
    expect(args.weights.text.attention.norm.eps).toBe(1e-12);
    expect(args).toMatchObject({ numHeads: 4, layerNormEps: 1e-12, step: 0 });
    expect(args.config).toMatchObject({
      reduceLayers: [0],
      pruneRatio: 0.2,
      mergeRatio: 0.2,
      textMergeRatio: 0.2,
    });
    expect(args.text.shape).toEqual([2, 12, 32]);
  });
  it('rejects a document of another kind or missing an output with a GOLDEN error', () => {
    const doc = readMeterGoldenDocument(file) as Record<string, Record<string, unknown>>;
    expect(() => parseMeterGoldenCase({ ...doc, kind: 'vilt_block' }, file)).toThrow(
      /kind must be "meter_cross_layer"/,
    );
    const { img2txt_attn: _, ...outputs } = doc['outputs']!;
    expect(() => parseMeterGoldenCase({ ...doc, outputs }, file)).toThrow(PumerError);
    expect(() => parseMeterGoldenCase({ ...doc, outputs }, file)).toThrow(/outputs\.img2txt_attn is missing/);
  });
});

describe('meter_model_cases', () => {
  it('stacks NLVR2 image pairs as [B, 2, 3, S, S] and reads the schedule in steps', () => {
    const c = readMeterModelCases('tiny-meter-nlvr2');
    expect(c.inputs.pixelValues.shape).toEqual([4, 2, 3, 64, 64]);
    expect(c.config).toMatchObject({
      reduceLayers: [1],
      pruneRatio: 0.3,
      mergeRatio: 0.5,
      textMergeRatio: 0.2,
    });
    expect(c.reduced.passes.map((p) => p.map((s) => [s.textTokens, s.imageTokens]))).toEqual([
      [
        [16, 17],
        [13, 7],
      ],
      [
        [16, 17],
        [13, 7],
      ],
    ]);
  });
  it('rejects a document of another kind', () => {
    expect(() => parseMeterModelCases({ format: 'pumer-golden/1', kind: 'vilt_block', params: {} })).toThrow(
      /kind must be "meter_model_cases"/,
    );
  });
  it('VQA reduces from step 0', () => {
    const c = readMeterModelCases('tiny-meter-vqa');
    expect(c.config.reduceLayers).toEqual([0, 1]);
    expect(c.inputs.pixelValues.shape).toEqual([4, 3, 64, 64]);
    expect(c.reduced.passes[0]!.map((s) => [s.textTokens, s.imageTokens])).toEqual([
      [13, 11],
      [10, 7],
    ]);
  });
});
