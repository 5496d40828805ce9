import '@pumer/backend-cpu';
import '../node.js'; // installs the directory loader and the image decoder, as users import it
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveBackend } from '@pumer/core';
import { meterModelDir } from '@pumer/testkit/node';
import {
  type CheckpointTensor,
  REQUESTED_BY_CALLER,
  readCheckpoint,
  type TensorToWrite,
  writeSafetensors,
} from '@pumer/vilt';
import { bundledImages, decodeImageFile } from '@pumer/vilt/node';
import { describe, expect, it } from 'vitest';
import { createMeterPipeline } from '../create-pipeline.js';
import { meterFromFiles } from '../model.js';
import { meterBatchInputs, resolveMeterModel, setMeterCheckpointLoader } from '../pipeline-shared.js';
import { prepareMeterImage } from '../preprocessor.js';
import { bundledTokenizerPath } from './assets.js';
import { loadMeter } from './load.js';

/** A w x h RGB image of seeded noise. */
function noise(seed: number, width = 80, height = 64) {
  let s = seed >>> 0;
  const data = Uint8Array.from({ length: width * height * 3 }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 24;
  });
  return { data, width, height, channels: 3 as const };
}

const counts = (step: number, kind: string, tin: number, iin: number, tout: number, iout: number) => ({
  step,
  kind,
  textIn: tin,
  imageIn: iin,
  textOut: tout,
  imageOut: iout,
});

describe('createMeterPipeline on cpu', () => {
  const vqaDir = meterModelDir('tiny-meter-vqa');

  it("answers VQA with the model's schedule: the logits of runMeter on the prepared inputs", async () => {
    const vqa = await createMeterPipeline(vqaDir, { task: 'vqa', backend: 'cpu' });
    const image = noise(1);
    const r = await vqa.answer(image, 'what color is the circle?', { topK: 3, details: true });
    expect(r.answers).toHaveLength(3);
    expect(r.answers[0].logit).toBe(Math.max(...r.logits));
    const { loaded } = vqa;
    const inputs = meterBatchInputs(
      [
        {
          text: loaded.tokenizer.encode('what color is the circle?'),
          images: [prepareMeterImage(image, 64)],
        },
      ],
      1,
      16,
    );
    const out = await (await resolveBackend('cpu')).runMeter(loaded.model, inputs, loaded.reduction);
    expect(Array.from(r.logits)).toEqual(Array.from(out.logits.data));
    // Counts follow the padded window (16 text tokens) and 17 image tokens: docs/meter.md's VQA (13, 11), (10, 7).
    expect(r.details).toEqual({
      passes: [[counts(0, 'pumer', 16, 17, 13, 11), counts(1, 'pumer', 13, 11, 10, 7)]],
    });
    const info = vqa.info();
    expect([info.backend.name, info.backend.reason, info.schedule.name, info.model, info.task]).toEqual([
      'cpu',
      REQUESTED_BY_CALLER,
      'model',
      loaded.model.id,
      'vqa',
    ]);
  });

  it("runs any schedule of core's resolver over the steps, and batches", async () => {
    const off = await createMeterPipeline(vqaDir, { task: 'vqa', backend: 'cpu', reduction: 'unreduced' });
    expect(off.reduction).toBeNull();
    const items = [
      { image: noise(2), question: 'what is the red?' },
      { image: noise(3, 64, 90), question: 'how many are there?' },
    ];
    const both = await off.answerBatch(items, { details: true });
    expect(both[1].details?.passes[0]).toEqual([
      counts(0, 'none', 16, 17, 16, 17),
      counts(1, 'none', 16, 17, 16, 17),
    ]);
    const alone = await off.answer(items[1].image, items[1].question);
    expect(Array.from(alone.logits)).toEqual(Array.from(both[1].logits));
    const ve = await createMeterPipeline(vqaDir, { backend: 'cpu', reduction: 'meter-ve' });
    expect(ve.info().schedule.name).toBe('meter-ve');
    expect(ve.reduction?.reduceLayers).toEqual([0, 1]);
    // A ViLT schedule means nothing on METER (docs/schedules.md, "Model families").
    await expect(createMeterPipeline(vqaDir, { backend: 'cpu', reduction: 'paper' })).rejects.toThrow(
      /"paper" is a ViLT schedule, not for a METER model/,
    );
  });

  it('predicts VE and NLVR2 (one pass per image, each reduced on its own)', async () => {
    const ve = await createMeterPipeline(meterModelDir('tiny-meter-ve'), { task: 've', backend: 'cpu' });
    const v = await ve.predict(noise(4), 'the circle is red.');
    expect(v.classes.map((c) => c.label)).toEqual(['contradiction', 'neutral', 'entailment']);
    expect(v.classes.reduce((s, c) => s + c.probability, 0)).toBeCloseTo(1, 6);
    const nlvr2 = await createMeterPipeline(meterModelDir('tiny-meter-nlvr2'), {
      task: 'nlvr2',
      backend: 'cpu',
    });
    const n = await nlvr2.predict([noise(5), noise(6)], 'the left one is red.', { details: true });
    expect(n.value).toBe(n.label === 'True');
    const pass = [counts(0, 'none', 16, 17, 16, 17), counts(1, 'pumer', 16, 17, 13, 7)];
    expect(n.details).toEqual({ passes: [pass, pass] });
  });

  it('scores and ranks retrieval pairs with rank_output', async () => {
    // The tiny VQA model with a retrieval head: Linear(2D, 1) on cls_feats.
    const { tensors } = readCheckpoint(new Uint8Array(readFileSync(join(vqaDir, 'pytorch_model.bin'))));
    const out = new Map<string, TensorToWrite>();
    for (const [name, t] of tensors as Map<string, CheckpointTensor>)
      if (!name.startsWith('vqa_classifier.')) out.set(name, { data: t.data, shape: t.shape });
    out.set('rank_output.weight', {
      data: Float32Array.from({ length: 64 }, (_, i) => Math.sin(i)),
      shape: [1, 64],
    });
    out.set('rank_output.bias', { data: Float32Array.of(0.5), shape: [1] });
    const config = JSON.parse(readFileSync(join(vqaDir, 'config.json'), 'utf8'));
    const loaded = meterFromFiles({
      config: { ...config, architectures: ['MeterForImageAndTextRetrieval'] },
      textConfig: JSON.parse(readFileSync(join(vqaDir, 'text_config.json'), 'utf8')),
      weights: writeSafetensors(out),
      tokenizer: JSON.parse(readFileSync(bundledTokenizerPath() as string, 'utf8')),
    });
    const retrieval = await createMeterPipeline(loaded, { task: 'retrieval', backend: 'cpu' });
    const texts = ['a red circle.', 'what is there?', 'the square.'];
    const images = [noise(7), noise(8)];
    const progress: number[] = [];
    const ranked = await retrieval.rank({
      texts,
      images,
      topK: 1,
      batchSize: 4,
      onProgress: (p) => progress.push(p.done),
    });
    expect(progress).toEqual([4, 6]);
    const one = await retrieval.score(texts[2], images[1]);
    expect(ranked.scores[2 * 2 + 1]).toBeCloseTo(one.score, 5);
    const best = ranked.scores[0] >= ranked.scores[1] ? 0 : 1;
    expect(ranked.textToImage[0]).toEqual([{ index: best, score: ranked.scores[best] }]);
  });

  it('takes image paths and PNG bytes (decoded by @pumer/vilt/node) like decoded pixels', async () => {
    const vqa = await createMeterPipeline(vqaDir, { task: 'vqa', backend: 'cpu' });
    const [example] = bundledImages();
    const byPath = await vqa.answer(example.path, example.question);
    const byBytes = await vqa.answer(new Uint8Array(readFileSync(example.path)), example.question);
    const byPixels = await vqa.answer(decodeImageFile(example.path), example.question);
    expect(Array.from(byPath.logits)).toEqual(Array.from(byPixels.logits));
    expect(Array.from(byBytes.logits)).toEqual(Array.from(byPixels.logits));
  });

  it('refuses a checkpoint of another task, and a directory when nothing can load one', async () => {
    await expect(createMeterPipeline(vqaDir, { task: 've', backend: 'cpu' })).rejects.toMatchObject({
      code: 'CHECKPOINT',
      message: expect.stringMatching(
        /MeterForQuestionAnswering checkpoint answers VQA, not visual entailment/,
      ),
    });
    await expect(createMeterPipeline(vqaDir, { task: 'caption' as 'vqa' })).rejects.toMatchObject({
      code: 'VALUE',
    });
    setMeterCheckpointLoader(null);
    try {
      expect(() => resolveMeterModel(vqaDir)).toThrow(/import '@pumer\/meter\/node'/);
    } finally {
      setMeterCheckpointLoader((dir) => loadMeter(dir));
    }
    expect(() => resolveMeterModel({} as never)).toThrow(/must be a METER checkpoint directory or a model/);
  });
});
