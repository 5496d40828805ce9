import { readFileSync } from 'node:fs';
import { createCpuBackend } from '@pumer/backend-cpu';
import { floatTensor, intTensor } from '@pumer/core';
import { hasSharedData, sharedPath } from '@pumer/testkit/node';
import { describe, expect, it } from 'vitest';
import { decodeImageFile } from '../node/decode.js';
import { loadVilt } from '../node/load.js';
import { padImages } from '../pad-images.js';
import { createVqaPipeline } from '../pipeline.js';
import { prepareImage } from '../preprocessor.js';

/**
 * The Hugging Face layout against what transformers computes (../shared/real): the tiny VQA checkpoint with
 * the legacy preprocessor_config.json (`"size": 384`), real photographs, through the CPU reference backend.
 */

interface Tensor {
  readonly shape: number[];
  readonly data: number[];
}
interface RealCase {
  readonly name: string;
  readonly model: string;
  readonly images: string[];
  readonly text: string | string[];
  readonly input_ids: Tensor;
  readonly attention_mask: Tensor;
  readonly pixel_values_shape: number[];
  readonly pixel_mask_valid_hw?: number[][];
  readonly logits: Tensor;
}

const present = hasSharedData('real', 'cases.json') && hasSharedData('real', 'vqa', 'config.json');
const real = (...p: string[]) => sharedPath('real', ...p);
const cases: RealCase[] = present ? JSON.parse(readFileSync(real('cases.json'), 'utf8')).cases : [];
// vqa_batch3 pads three images of different sizes to one batch with a pixel mask (its own test below).
const PIXEL_MASK_CASES = ['vqa_batch3'];
const vqaCases = cases.filter((c) => c.name.startsWith('vqa_') && !PIXEL_MASK_CASES.includes(c.name));
const batch3 = cases.find((c) => c.name === 'vqa_batch3');

describe.skipIf(!present)('the Hugging Face layout (../shared/real/vqa)', () => {
  it('reads the checkpoint: layout, labels, legacy preprocessor', () => {
    const loaded = loadVilt(real('vqa'));
    expect(loaded.config.layout).toBe('hf');
    expect(loaded.model.labels.slice(0, 3)).toEqual(['yes', 'no', '2']);
    expect(loaded.tokenizer.window).toBe(40);
    expect(loaded.preprocessor).toMatchObject({ shortestEdge: 384, sizeDivisor: 32, resample: 3 });
    expect(loaded.preprocessor.fixedSize).toBeUndefined();
  });

  it('gives transformers’ logits for every single-image vqa_* case', async () => {
    expect(cases.some((c) => PIXEL_MASK_CASES.includes(c.name))).toBe(true);
    expect(vqaCases.length).toBe(9);
    const loaded = loadVilt(real('vqa'));
    const cpu = createCpuBackend();
    for (const c of vqaCases) {
      const text = loaded.tokenizer.encode(c.text as string);
      const n = c.input_ids.shape[1];
      expect(text.inputIds.slice(0, n), c.name).toEqual(c.input_ids.data);
      expect(text.attentionMask.slice(0, n), c.name).toEqual(c.attention_mask.data);
      expect(
        text.attentionMask.slice(n).every((m) => m === 0),
        c.name,
      ).toBe(true);
      const pixels = prepareImage(decodeImageFile(real(c.images[0])), loaded.preprocessor, c.images[0]);
      expect([1, ...pixels.shape], c.name).toEqual(c.pixel_values_shape);
      const out = await cpu.runVilt(
        loaded.model,
        {
          inputIds: intTensor(text.inputIds, [1, text.inputIds.length]),
          attentionMask: intTensor(text.attentionMask, [1, text.attentionMask.length]),
          pixelValues: floatTensor(pixels.data, [1, ...pixels.shape]),
        },
        null,
      );
      const err = Math.max(...c.logits.data.map((v, i) => Math.abs(out.logits.data[i] - v)));
      expect(err, c.name).toBeLessThan(1e-5);
    }
  });

  it('gives transformers’ logits for vqa_batch3: three sizes padded into one batch with a pixel mask', async () => {
    const c = batch3!;
    const pipeline = await createVqaPipeline({
      model: loadVilt(real('vqa')),
      backend: createCpuBackend(),
      reduction: null,
    });
    const items = c.images.map((image, i) => ({
      image: decodeImageFile(real(image)),
      question: (c.text as string[])[i],
    }));
    // The padded batch is what the reference processor built.
    const { pixelValues, pixelMask } = padImages(
      items.map((it) => prepareImage(it.image, pipeline.loaded.preprocessor)),
    );
    expect(pixelValues.shape).toEqual(c.pixel_values_shape);
    const [, h, w] = pixelMask.shape;
    const validHW = c.images.map((_, b) => {
      const m = pixelMask.data.subarray(b * h * w, (b + 1) * h * w);
      return [
        m.filter((_, i) => i % w === 0).reduce((s, v) => s + v, 0),
        m.subarray(0, w).reduce((s, v) => s + v, 0),
      ];
    });
    expect(validHW).toEqual(c.pixel_mask_valid_hw);
    const results = await pipeline.answerBatch(items);
    const labels = c.logits.shape[1];
    const err = Math.max(
      ...c.logits.data.map((v, i) => Math.abs(results[Math.floor(i / labels)].logits[i % labels] - v)),
    );
    expect(err).toBeLessThan(1e-5);
    // Grouped by size instead, each image runs alone: the same answers.
    const bySize = await pipeline.answerBatch(items, { batching: 'by-size' });
    bySize.forEach((r, b) => {
      for (let k = 0; k < labels; k++) expect(r.logits[k]).toBeCloseTo(results[b].logits[k], 5);
    });
  });

  it.each([
    ['nlvr2', 'nlvr2', 2, ['False', 'True']],
    ['retrieval', 'retrieval', 1, ['score']],
  ])('maps the head of %s: task %s, %i image(s), labels %j', (dir, task, images, labels) => {
    const loaded = loadVilt(real(dir));
    expect(loaded.model.task).toBe(task);
    expect(loaded.model.geometry.numImages).toBe(images);
    expect(loaded.model.labels).toEqual(labels);
    expect(loaded.model.weights.head.kind).toBe(task === 'retrieval' ? 'rank' : 'classifier');
  });
});
