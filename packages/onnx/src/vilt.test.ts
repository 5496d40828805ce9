import { namedSchedule, ShapeError, type ViltModel } from '@pumer/core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { tinyModel } from './tiny-model.test-helpers.js';
import { modelFingerprint } from './model-fingerprint.js';
import { buildViltGraph, scheduleKey, ViltGraphCache } from './vilt.js';

// The paper's schedule as it stands on the 12-layer ViLT: reduce layers 2, 5, 8.
const PAPER = namedSchedule('paper', 12)!;

describe('whole-model graph', () => {
  const config = {
    ...PAPER,
    reduceLayers: [1],
    pruneRatio: 0.3,
    mergeRatio: 0.3,
    textMergeRatio: 0.4,
  };

  it('with a pixel mask: each padded image gives what it gives alone (unreduced)', async () => {
    const model = tinyModel('m');
    const ids = (b: number) =>
      new ort.Tensor(
        'int32',
        Int32Array.from({ length: b * 5 }, (_, i) => (i * 3) % 11),
        [b, 5],
      );
    const ones = (b: number) => new ort.Tensor('float32', new Float32Array(b * 5).fill(1), [b, 5]);
    const image = (h: number, w: number, seed: number) =>
      Float32Array.from({ length: 3 * h * w }, (_, i) => Math.sin(i * 0.7 + seed));
    const logitsAlone = async (h: number, w: number, seed: number, row: number) => {
      const built = buildViltGraph(model, { textLen: 5, gridH: h / 4, gridW: w / 4 }, null);
      const session = await ort.InferenceSession.create(built.graph.toOnnxBytes());
      const out = await session.run({
        input_ids: new ort.Tensor(
          'int32',
          (ids(2).data as Int32Array).subarray(row * 5, row * 5 + 5),
          [1, 5],
        ),
        attention_mask: ones(1),
        pixel_values: new ort.Tensor('float32', image(h, w, seed), [1, 3, h, w]),
      });
      await session.release();
      return Array.from(out['logits'].data as Float32Array);
    };
    // A 12x20 image (3x5 patches) and an 8x12 one (2x3) padded into one 12x20 batch.
    const pixels = new Float32Array(2 * 3 * 12 * 20);
    pixels.set(image(12, 20, 0));
    const small = image(8, 12, 1);
    const mask = new Float32Array(2 * 12 * 20);
    mask.fill(1, 0, 12 * 20);
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 8; y++)
        pixels.set(small.subarray((c * 8 + y) * 12, (c * 8 + y + 1) * 12), ((3 + c) * 12 + y) * 20);
    for (let y = 0; y < 8; y++) mask.fill(1, 12 * 20 + y * 20, 12 * 20 + y * 20 + 12);
    const built = buildViltGraph(model, { textLen: 5, gridH: 3, gridW: 5, imagePatches: 15 }, null);
    const session = await ort.InferenceSession.create(built.graph.toOnnxBytes());
    expect(session.inputNames).toEqual(['input_ids', 'attention_mask', 'pixel_values', 'pixel_mask']);
    const out = await session.run({
      input_ids: ids(2),
      attention_mask: ones(2),
      pixel_values: new ort.Tensor('float32', pixels, [2, 3, 12, 20]),
      pixel_mask: new ort.Tensor('float32', mask, [2, 12, 20]),
    });
    await session.release();
    const batch = Array.from(out['logits'].data as Float32Array);
    const alone = [...(await logitsAlone(12, 20, 0, 0)), ...(await logitsAlone(8, 12, 1, 1))];
    for (let i = 0; i < batch.length; i++) expect(batch[i]).toBeCloseTo(alone[i], 5);
    expect(() => buildViltGraph(model, { textLen: 5, gridH: 3, gridW: 5, imagePatches: 16 }, null)).toThrow(
      ShapeError,
    );
    const geo = { textLen: 5, gridH: 3, gridW: 5 };
    expect(ViltGraphCache.key(model, { ...geo, imagePatches: 15 }, null)).not.toBe(
      ViltGraphCache.key(model, geo, null),
    );
  });

  it('follows core planLayer and exposes a trace per reducing layer; batch is dynamic', async () => {
    const built = buildViltGraph(tinyModel('m'), { textLen: 5, gridH: 3, gridW: 5 }, config);
    expect(built.layers.map((l) => l.plan.kind)).toEqual(['none', 'pumer', 'none']);
    const plan = built.layers[1].plan;
    if (plan.kind !== 'pumer') throw new Error('expected a pumer layer');
    expect([plan.textIn, plan.imageIn, plan.keep]).toEqual([5, 16, 11]);
    const session = await ort.InferenceSession.create(built.graph.toOnnxBytes());
    for (const b of [1, 3]) {
      const out = await session.run({
        input_ids: new ort.Tensor(
          'int32',
          Int32Array.from({ length: b * 5 }, (_, i) => i % 11),
          [b, 5],
        ),
        attention_mask: new ort.Tensor(
          'float32',
          Float32Array.from({ length: b * 5 }, (_, i) => (i % 5 < 4 ? 1 : 0)),
          [b, 5],
        ),
        pixel_values: new ort.Tensor(
          'float32',
          new Float32Array(b * 3 * 12 * 20).map((_, i) => Math.sin(i)),
          [b, 3, 12, 20],
        ),
      });
      expect(out['logits'].dims).toEqual([b, 3]);
      expect(out['layer1_keep_idx'].dims).toEqual([b, plan.keep]);
      expect(out['layer1_image_dst'].dims).toEqual([b, plan.keep]);
      expect(out['layer1_text_dst'].dims).toEqual([b, 5]);
      expect(out['layer1_saliency'].dims).toEqual([b, 16]);
      const keep = Array.from(out['layer1_keep_idx'].data as Int32Array).slice(0, plan.keep);
      expect(new Set(keep).size).toBe(plan.keep);
      expect(Math.max(...(out['layer1_image_dst'].data as Int32Array))).toBe(plan.imageOut - 1);
    }
    await session.release();
  });

  it('rejects geometries the model cannot take', () => {
    expect(() => buildViltGraph(tinyModel('m'), { textLen: 7, gridH: 4, gridW: 4 }, null)).toThrow(
      ShapeError,
    );
    expect(() => buildViltGraph(tinyModel('m'), { textLen: 5, gridH: 0, gridW: 4 }, null)).toThrow(
      /patch grid/,
    );
    expect(() =>
      buildViltGraph(tinyModel('m'), { textLen: 5, gridH: 4, gridW: 4 }, { ...config, reduceLayers: [3] }),
    ).toThrow(/layer 3 is out of range/);
  });

  it('caches per (model content, geometry, schedule) and evicts the oldest', () => {
    const made: string[] = [];
    const evicted: string[] = [];
    const cache = new ViltGraphCache<string>(
      2,
      (m, g, c) => {
        const k = `${m.id}:${g.textLen}:${scheduleKey(c)}`;
        made.push(k);
        return k;
      },
      (v) => evicted.push(v),
    );
    const a = tinyModel('a');
    const geo = { textLen: 5, gridH: 4, gridW: 4 };
    cache.get(a, geo, null);
    cache.get(a, geo, null);
    cache.get(a, geo, config);
    cache.get(withPooler(tinyModel('b'), 0.5), geo, null);
    expect(made).toEqual(['a:5:unreduced', `a:5:${scheduleKey(config)}`, 'b:5:unreduced']);
    expect(evicted).toEqual(['a:5:unreduced']);
    expect(scheduleKey({ ...config, reduceLayers: [1] })).toBe(scheduleKey(config));
    // Training-free mode builds another graph at the same counts.
    expect(scheduleKey({ ...config, trainingFree: true })).not.toBe(scheduleKey(config));
    expect(scheduleKey({ ...config, trainingFree: false })).toBe(scheduleKey(config));
  });

  it('keys graphs on what shapes them, not on the model id: same id, other weights or labels, other graph', () => {
    const geo = { textLen: 5, gridH: 4, gridW: 4 };
    const made: string[] = [];
    const cache = new ViltGraphCache<string>(8, (m) => {
      made.push(m.id);
      return m.id;
    });
    const a = tinyModel('same-id');
    cache.get(a, geo, null);
    // Another file's bytes under the same path, size and mtime; or the same weights under new labels.
    cache.get(withPooler(tinyModel('same-id'), 0.5), geo, null);
    cache.get({ ...tinyModel('same-id'), labels: ['x', 'y', 'z'] }, geo, null);
    cache.get({ ...a, geometry: { ...a.geometry, layerNormEps: 1e-5 } }, geo, null);
    expect(made).toHaveLength(4);
    // The same content under another id (or another object) is the same graph.
    cache.get(tinyModel('other-id'), geo, null);
    expect(made).toHaveLength(4);
    expect(ViltGraphCache.key(a, geo, null)).toBe(ViltGraphCache.key(tinyModel('x'), geo, null));
    expect(modelFingerprint(a)).toMatch(/^[0-9a-f]{16}$/);
    expect(modelFingerprint(a)).toBe(modelFingerprint(a));
  });
});

/** `model` with one pooler bias value changed by `delta` (a different checkpoint under the same id). */
function withPooler(model: ViltModel, delta: number): ViltModel {
  const bias = model.weights.pooler.bias!;
  const data = Float32Array.from(bias.data);
  data[0] += delta;
  return {
    ...model,
    weights: { ...model.weights, pooler: { ...model.weights.pooler, bias: { ...bias, data } } },
  };
}
