import { readFileSync } from 'node:fs';
import { createCpuBackend } from '@pumer/backend-cpu';
import { intTensor, namedSchedule, type ViltInputs } from '@pumer/core';
import { hasSharedData, sharedPath } from '@pumer/testkit/node';
import { createVqaPipeline, decodeImageFile, loadVilt, padImages, prepareImage } from '@pumer/vilt/node';
import { afterAll, describe, expect, it } from 'vitest';
import { createNodeBackend } from './backend.js';

/**
 * Images of different sizes padded into one batch with a pixel mask, on onnxruntime-node: the `vqa_batch3`
 * case of ../shared/real (Hugging Face's ViltImageProcessor + ViltForQuestionAnswering on three photographs
 * processed together), and the reducers on the padded tokens against the CPU reference.
 */

interface BatchCase {
  readonly name: string;
  readonly images: string[];
  readonly text: string[];
  readonly logits: { readonly shape: number[]; readonly data: number[] };
}

const present = hasSharedData('real', 'cases.json') && hasSharedData('real', 'vqa', 'config.json');
const real = (...p: string[]) => sharedPath('real', ...p);
const batch3: BatchCase | undefined = present
  ? JSON.parse(readFileSync(real('cases.json'), 'utf8')).cases.find((c: BatchCase) => c.name === 'vqa_batch3')
  : undefined;

describe.skipIf(!present)('a padded batch on onnxruntime-node (../shared/real vqa_batch3)', () => {
  const node = createNodeBackend({ provider: 'cpu' });
  afterAll(async () => (await node).dispose());

  it('gives transformers’ logits', async () => {
    const c = batch3!;
    const pipeline = await createVqaPipeline({
      model: loadVilt(real('vqa')),
      backend: await node,
      reduction: null,
    });
    const results = await pipeline.answerBatch(
      c.images.map((image, i) => ({ image: decodeImageFile(real(image)), question: c.text[i] })),
    );
    const labels = c.logits.shape[1];
    const err = Math.max(
      ...c.logits.data.map((v, i) => Math.abs(results[Math.floor(i / labels)].logits[i % labels] - v)),
    );
    expect(err).toBeLessThan(1e-4);
  });

  it('reduces the padded tokens as the CPU reference does', async () => {
    const c = batch3!;
    const loaded = loadVilt(real('vqa'));
    const { pixelValues, pixelMask } = padImages(
      c.images.map((image) => prepareImage(decodeImageFile(real(image)), loaded.preprocessor)),
    );
    const rows = c.text.map((q) => loaded.tokenizer.encode(q));
    const t = loaded.tokenizer.window;
    const inputs: ViltInputs = {
      inputIds: intTensor(
        rows.flatMap((r) => r.inputIds),
        [rows.length, t],
      ),
      attentionMask: intTensor(
        rows.flatMap((r) => r.attentionMask),
        [rows.length, t],
      ),
      pixelValues,
      pixelMask,
    };
    const config = namedSchedule('aggressive', loaded.model.geometry.numLayers);
    const cpu = await createCpuBackend().runVilt(loaded.model, inputs, config);
    const onnx = await (await node).runVilt(loaded.model, inputs, config);
    // 216 patch tokens (the largest image's 12 x 18) + the image [CLS], for every row.
    expect(cpu.layers[0].imageIn).toBe(217);
    expect(onnx.layers.map((l) => [l.imageIn, l.imageOut])).toEqual(
      cpu.layers.map((l) => [l.imageIn, l.imageOut]),
    );
    for (let i = 0; i < cpu.logits.data.length; i++)
      expect(onnx.logits.data[i]).toBeCloseTo(cpu.logits.data[i], 4);
    const pumer = cpu.layers.findIndex((l) => l.kind === 'pumer');
    expect(Array.from(onnx.layers[pumer].keepIdx!.data)).toEqual(Array.from(cpu.layers[pumer].keepIdx!.data));
  });
});
