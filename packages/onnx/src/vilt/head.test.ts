import { floatTensor, namedSchedule, type ViltModel } from '@pumer/core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { tinyModel } from '../tiny-model.test-helpers.js';
import { buildViltGraph } from '../vilt.js';

// One reducing layer on the tiny three-layer model.
const config = {
  ...namedSchedule('paper', 12)!,
  reduceLayers: [1],
  pruneRatio: 0.3,
  mergeRatio: 0.3,
  textMergeRatio: 0.4,
};

const image = (seed: number, h = 12, w = 20) =>
  Float32Array.from({ length: 3 * h * w }, (_, i) => Math.sin(i * 0.37 + seed) * Math.cos(i * 0.011 * seed));

/** Runs a whole-model graph on one text and per-example pixels; every output by name. */
async function run(
  model: ViltModel,
  pixels: Float32Array,
  pixelDims: number[],
  reduce: typeof config | null,
  extra: Record<string, ort.Tensor> = {},
  patches?: number | number[],
) {
  const b = pixelDims[0]!;
  const geometry = {
    textLen: 5,
    gridH: pixelDims.at(-2)! / 4,
    gridW: pixelDims.at(-1)! / 4,
    ...(patches === undefined ? {} : { imagePatches: patches }),
  };
  const built = buildViltGraph(model, geometry, reduce);
  const session = await ort.InferenceSession.create(built.graph.toOnnxBytes());
  const out = await session.run({
    input_ids: new ort.Tensor(
      'int32',
      Int32Array.from({ length: b * 5 }, (_, i) => ((i % 5) * 7 + 2) % 11),
      [b, 5],
    ),
    attention_mask: new ort.Tensor(
      'float32',
      Float32Array.from({ length: b * 5 }, (_, i) => (i % 5 < 4 ? 1 : 0)),
      [b, 5],
    ),
    pixel_values: new ort.Tensor('float32', pixels, pixelDims),
    ...extra,
  });
  await session.release();
  return { built, out };
}

const values = (t: ort.Tensor) => Array.from(t.data as Float32Array | Int32Array);

/** `model` (NLVR2) with its two image modality rows exchanged and fc1's two input halves exchanged to match. */
function swapImages(model: ViltModel): ViltModel {
  const w = model.weights;
  const d = model.geometry.hiddenSize;
  const rows = w.modalityEmbeddings.data;
  const modality = Float32Array.from([
    ...rows.subarray(0, d),
    ...rows.subarray(2 * d),
    ...rows.subarray(d, 2 * d),
  ]);
  const head = w.head;
  if (head.kind !== 'classifier') throw new Error('expected a classifier head');
  const [out, inp] = head.fc1.weight.shape as [number, number];
  const fc1 = new Float32Array(out * inp);
  for (let o = 0; o < out; o++) {
    const row = head.fc1.weight.data.subarray(o * inp, (o + 1) * inp);
    fc1.set(row.subarray(d), o * inp);
    fc1.set(row.subarray(0, d), o * inp + d);
  }
  return {
    ...model,
    weights: {
      ...w,
      modalityEmbeddings: floatTensor(modality, [3, d]),
      head: { ...head, fc1: { ...head.fc1, weight: floatTensor(fc1, [out, inp]) } },
    },
  };
}

describe('heads and image passes in the whole-model graph', () => {
  it('NLVR2: each image runs its own pass (its modality row, its own reduction) into one classifier', async () => {
    const model = tinyModel('nlvr2', 'nlvr2');
    const [a, b] = [image(1), image(2)];
    const pair = (x: Float32Array, y: Float32Array) => Float32Array.from([...x, ...y]);
    const dims = [1, 2, 3, 12, 20];
    const got = await run(model, pair(a, b), dims, config);
    expect(got.out['logits']!.dims).toEqual([1, 2]);
    expect(got.built.imagePasses).toHaveLength(2);
    expect(got.built.layers).toBe(got.built.imagePasses[0]);
    expect(got.built.graph.toModel().graph.input!.map((v) => v.name)).toEqual([
      'input_ids',
      'attention_mask',
      'pixel_values',
    ]);
    // The two images are reduced differently (their saliencies differ) ...
    const keep = (out: typeof got.out, pass: number) => values(out[`image${pass}_layer1_keep_idx`]!);
    expect(keep(got.out, 1)).not.toEqual(keep(got.out, 2));
    // ... and exchanging the images, their modality rows and the classifier's halves changes nothing.
    const swapped = await run(swapImages(model), pair(b, a), dims, config);
    expect(keep(swapped.out, 1)).toEqual(keep(got.out, 2));
    expect(keep(swapped.out, 2)).toEqual(keep(got.out, 1));
    const diff = values(got.out['logits']!).map((v, i) => Math.abs(v - values(swapped.out['logits']!)[i]!));
    expect(Math.max(...diff)).toBeLessThan(1e-5);
  });

  it('NLVR2: the passes share the weights (stored once, not once per image)', () => {
    const geometry = { textLen: 5, gridH: 3, gridW: 5 };
    const weightBytes = (m: ViltModel) =>
      buildViltGraph(m, geometry, config)
        .graph.toModel()
        .graph.initializer!.reduce((s, i) => s + (i.rawData as Uint8Array).byteLength, 0);
    const blocks = tinyModel('vqa').weights.layers.reduce(
      (s, l) =>
        s +
        [l.query, l.key, l.value, l.proj, l.fc1, l.fc2].reduce((t, lw) => t + lw.weight.data.byteLength, 0),
      0,
    );
    // The second pass adds its own small tables (image constants, modality row), not a copy of the blocks.
    expect(weightBytes(tinyModel('nlvr2', 'nlvr2')) - weightBytes(tinyModel('vqa', 'vqa'))).toBeLessThan(
      blocks / 2,
    );
  });

  it('NLVR2 padded: pixel_mask [B, 2, H, W], each pass keeps its own patch count', async () => {
    const model = tinyModel('nlvr2', 'nlvr2');
    const [h, w] = [12, 20];
    // Example 0: image 1 is 8x12 of 12x20 (2x3 patches), image 2 full; example 1: both full.
    const mask = new Float32Array(2 * 2 * h * w).fill(1);
    mask.fill(0, 0, h * w);
    for (let y = 0; y < 8; y++) mask.fill(1, y * w, y * w + 12);
    const pixels = Float32Array.from([...image(1), ...image(2), ...image(3), ...image(4)]);
    const got = await run(
      model,
      pixels,
      [2, 2, 3, h, w],
      config,
      { pixel_mask: new ort.Tensor('float32', mask, [2, 2, h, w]) },
      [15, 15],
    );
    expect(got.out['logits']!.dims).toEqual([2, 2]);
    expect(got.out['image1_layer1_saliency']!.dims).toEqual([2, 16]);
    // Example 1 pads nothing: it gives what it gives alone on the unpadded graph.
    const alone = await run(model, pixels.subarray(2 * 3 * h * w), [1, 2, 3, h, w], config);
    const diff = values(alone.out['logits']!).map((v, i) => Math.abs(v - values(got.out['logits']!)[2 + i]!));
    expect(Math.max(...diff)).toBeLessThan(1e-5);
    expect(() => buildViltGraph(model, { textLen: 5, gridH: 3, gridW: 5, imagePatches: [15] }, null)).toThrow(
      /2 image/,
    );
  });

  it('retrieval: rank_output gives one score per (text, image) pair; VE: a 3-way classifier', async () => {
    const pixels = Float32Array.from([...image(1), ...image(2), ...image(3)]);
    const rank = await run(tinyModel('r', 'retrieval'), pixels, [3, 3, 12, 20], config);
    expect(rank.out['logits']!.dims).toEqual([3, 1]);
    const first = await run(
      tinyModel('r', 'retrieval'),
      pixels.subarray(0, 3 * 12 * 20),
      [1, 3, 12, 20],
      config,
    );
    expect(values(first.out['logits']!)[0]).toBeCloseTo(values(rank.out['logits']!)[0]!, 5);
    const ve = await run(tinyModel('ve', 've'), pixels, [3, 3, 12, 20], null);
    expect(ve.out['logits']!.dims).toEqual([3, 3]);
  });

  it('rejects a geometry or a model that does not fit the images per example', () => {
    const nlvr2 = tinyModel('nlvr2', 'nlvr2');
    expect(() => buildViltGraph(nlvr2, { textLen: 5, gridH: 3, gridW: 5, numImages: 1 }, null)).toThrow(
      /takes 2 image/,
    );
    const w = nlvr2.weights;
    const twoRows = {
      ...nlvr2,
      weights: { ...w, modalityEmbeddings: floatTensor(w.modalityEmbeddings.data.subarray(0, 16), [2, 8]) },
    };
    expect(() => buildViltGraph(twoRows, { textLen: 5, gridH: 3, gridW: 5 }, null)).toThrow(/3 modality/);
  });
});
