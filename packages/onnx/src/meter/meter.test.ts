import { type MeterModel, type ReductionConfig, seededRandom, ShapeError } from '@pumer/core';
import { randomMeterModel } from '@pumer/testkit';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../builder.js';
import { maskHat } from '../nn.js';
import { buildMeterGraph } from './meter.js';

async function run(g: GraphBuilder, feeds: Record<string, ort.Tensor>) {
  const session = await ort.InferenceSession.create(g.toOnnxBytes());
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

const SCHEDULE: ReductionConfig = {
  reduceLayers: [0, 1],
  pruneRatio: 0.4,
  mergeRatio: 0.4,
  textMergeRatio: 0.3,
  saliency: 'mean_head',
  mergeStyle: 'tome',
};

/** Feeds for `model`: row b of ids, mask and pixels from `row(b)`. */
function feeds(model: MeterModel, rows: number[], t: number) {
  const geo = model.geometry;
  const s = geo.image.imageSize;
  const plane = geo.numImages * 3 * s * s;
  const ids = new Int32Array(rows.length * t);
  const mask = new Float32Array(rows.length * t);
  const pixels = new Float32Array(rows.length * plane);
  rows.forEach((r, b) => {
    const len = t - (r % 3); // some rows padded
    for (let i = 0; i < t; i++) {
      ids[b * t + i] =
        i === 0 ? 0 : i < len ? 3 + ((r * 7 + i * 5) % (geo.text.vocabSize - 3)) : geo.text.padTokenId;
      mask[b * t + i] = i < len ? 1 : 0;
    }
    for (let k = 0; k < plane; k++) pixels[b * plane + k] = Math.sin(r * 1.3 + k * 0.37);
  });
  const pixelDims = geo.numImages === 1 ? [rows.length, 3, s, s] : [rows.length, geo.numImages, 3, s, s];
  return {
    input_ids: new ort.Tensor('int32', ids, [rows.length, t]),
    attention_mask: new ort.Tensor('float32', mask, [rows.length, t]),
    pixel_values: new ort.Tensor('float32', pixels, pixelDims),
  };
}

describe('METER graph fragments', () => {
  it('maskHat with fewer keys than queries: query i sees key i (cross-attention), masked keys hidden otherwise', async () => {
    const g = new GraphBuilder('mask_hat');
    const mask = g.input('mask', 'float32', ['batch', 2]);
    g.output(maskHat(g, mask, 2, 3), 'hat', 'float32', ['batch', 1, 3, 2]);
    const out = await run(g, { mask: new ort.Tensor('float32', Float32Array.from([1, 0.25]), [1, 2]) });
    expect(Array.from(out['hat']!.data as Float32Array)).toEqual([1, 0.25, 1, 1, 1, 0.25]);
  });
});

describe('whole-METER graph', () => {
  it('names a trace per reducing step and per NLVR2 pass, and only keeps indices where the image is reduced', () => {
    const model = randomMeterModel(seededRandom(3), 'nlvr2');
    const built = buildMeterGraph(model, 8, { ...SCHEDULE, reduceLayers: [1], mergeRatio: 0.05 });
    expect(built.passes.length).toBe(2);
    for (const [p, steps] of built.passes.entries()) {
      expect(steps.map((s) => s.plan.kind)).toEqual(['none', 'pumer']);
      expect(steps[0]!.trace).toEqual({});
      // 5 image tokens: a merge ratio of 0.05 rounds to 0, so the image passes unchanged.
      expect(steps[1]!.plan).toMatchObject({ imageReduced: false, imageOut: 5 });
      expect(steps[1]!.trace).toEqual({
        saliency: `image${p + 1}_step1_saliency`,
        textDst: `image${p + 1}_step1_text_dst`,
      });
    }
  });

  it('refuses a text length outside the text window', () => {
    const model = randomMeterModel(seededRandom(3), 'vqa');
    expect(() => buildMeterGraph(model, 9, null)).toThrow(ShapeError);
    expect(() => buildMeterGraph(model, 0, null)).toThrow(ShapeError);
  });

  it('keeps batch rows independent: a row answers the same alone and next to others (reduced)', async () => {
    for (const task of ['vqa', 'nlvr2', 'retrieval'] as const) {
      const model = randomMeterModel(seededRandom(5), task);
      const { graph, passes } = buildMeterGraph(model, 8, SCHEDULE);
      expect(passes[0]!.map((s) => [s.plan.textOut, s.plan.imageOut])).toEqual([
        [6, 2],
        [4, 1], // keep 1 <= 2: pruned without merging (where the authors' code crashes)
      ]);
      const session = await ort.InferenceSession.create(graph.toOnnxBytes());
      try {
        const together = await session.run(feeds(model, [0, 1, 2], 8));
        const alone = await session.run(feeds(model, [2], 8));
        const width = together['cls_feats']!.dims[1]!;
        const row2 = (together['cls_feats']!.data as Float32Array).subarray(2 * width);
        const single = alone['cls_feats']!.data as Float32Array;
        for (let k = 0; k < width; k++) expect(row2[k]).toBeCloseTo(single[k]!, 5);
        expect(together['logits']!.dims[0]).toBe(3);
      } finally {
        await session.release();
      }
    }
  });
});
