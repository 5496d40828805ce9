import { readFileSync } from 'node:fs';
import { createCpuBackend } from '@pumer/backend-cpu';
import {
  type Backend,
  BackendError,
  disposeBackends,
  listBackends,
  PumerError,
  registerBackend,
  removeBackend,
  schedule,
  setBackend,
} from '@pumer/core';
import { afterEach, describe, expect, it } from 'vitest';
import { INTO_IMAGE_CLS } from '../details.js';
import { createVqaPipeline } from '../pipeline.js';
import { REQUESTED_BY_CALLER } from '../pipeline-shared.js';
import '../node.js';
import { bundledImages, defaultModelDir } from './assets.js';
import { decodeImageFile } from './decode.js';
import { loadVilt } from './load.js';

const loaded = loadVilt(defaultModelDir());
const circles = bundledImages().find((b) => b.question === 'how many circles are there?')!;

describe('VQA pipeline on the embedded default model', () => {
  it('answers "how many circles are there?" with details consistent with core schedule()', async () => {
    const vqa = await createVqaPipeline({ model: defaultModelDir() });
    expect(vqa.reduction?.reduceLayers).toEqual([1, 3]);
    const r = await vqa.answer(circles.path, circles.question, { topK: 3, details: true });
    expect(r.answers).toHaveLength(3);
    expect(r.answers[0].label).toBe(circles.answer);
    for (let k = 0; k < 3; k++)
      expect(r.answers[k].score).toBeCloseTo(1 / (1 + Math.exp(-r.answers[k].logit)), 12);
    expect(r.answers[0].logit).toBeGreaterThanOrEqual(r.answers[1].logit);
    expect(r.answers[1].logit).toBeGreaterThanOrEqual(r.answers[2].logit);
    expect(r.truncated).toBe(false);

    const d = r.details!;
    const g = loaded.config.geometry;
    const plan = schedule(
      {
        numLayers: g.numLayers,
        hiddenSize: g.hiddenSize,
        numHeads: g.numHeads,
        intermediateSize: g.intermediateSize,
        textTokens: 16,
        imageTokens: 65,
      },
      vqa.reduction,
    );
    expect(d.layers.map((l) => [l.kind, l.textIn, l.imageIn, l.textOut, l.imageOut])).toEqual(
      plan.layers.map((l) => [l.plan.kind, l.plan.textIn, l.plan.imageIn, l.textTokens, l.imageTokens]),
    );
    expect(d.grid).toEqual({ rows: 8, cols: 8 });
    expect(d.reduceLayers.map((l) => l.layer)).toEqual([1, 3]);
    let prunedBefore = new Set<number>();
    for (const layer of d.reduceLayers) {
      const p = plan.layers[layer.layer].plan;
      expect(layer.patches).toHaveLength(64);
      const kept =
        layer.patches.filter((f) => f.status === 'kept').length + (layer.imageCls.status === 'kept' ? 1 : 0);
      // Every output image row has exactly one representative token, whose own row it is.
      expect(kept).toBe(layer.imageOut);
      const pruned = new Set(layer.patches.flatMap((f, i) => (f.status === 'pruned' ? [i] : [])));
      for (const i of prunedBefore) expect(pruned.has(i)).toBe(true);
      const newlyPruned = [...pruned].filter((i) => !prunedBefore.has(i));
      for (const i of newlyPruned) expect(layer.patches[i].prunedAt).toBe(layer.layer);
      if (layer.layer === 1 && p.kind === 'pumer') {
        // Nothing was merged before the first reduce layer, so tokens pruned = patches pruned (+ the [CLS] if it went).
        expect(newlyPruned.length + (layer.imageCls.status === 'pruned' ? 1 : 0)).toBe(p.pruneCount);
      }
      for (const [i, f] of layer.patches.entries()) {
        if (f.status === 'merged') {
          const target = f.into === INTO_IMAGE_CLS ? layer.imageCls : layer.patches[f.into!];
          expect(target.status, `patch ${i} merged into ${f.into}`).toBe('kept');
        }
        if (f.status !== 'pruned' || f.prunedAt === layer.layer) expect(f.saliency).not.toBeNull();
      }
      prunedBefore = pruned;
    }
  });

  it('gives the same answers one by one and batched, on paths, bytes and decoded pixels', async () => {
    const vqa = await createVqaPipeline({ model: loaded, backend: 'cpu', reduction: 'pumer' });
    const images = bundledImages();
    const items = images.map((b, i) => ({
      // Mix the three input kinds in one batch.
      image:
        i % 3 === 0 ? b.path : i % 3 === 1 ? new Uint8Array(readFileSync(b.path)) : decodeImageFile(b.path),
      question: b.question,
    }));
    const batched = await vqa.answerBatch(items, { topK: 14 });
    expect(batched).toHaveLength(images.length);
    for (const [i, b] of images.entries()) {
      const single = await vqa.answer(b.path, b.question, { topK: 14 });
      expect(batched[i].answers.map((a) => a.label)).toEqual(single.answers.map((a) => a.label));
      for (let k = 0; k < 14; k++)
        expect(batched[i].answers[k].logit).toBeCloseTo(single.answers[k].logit, 4);
    }
    const unreduced = await createVqaPipeline({ model: loaded, reduction: 'none' });
    const u = await unreduced.answer(images[0].path, images[0].question, { details: true });
    expect(u.details!.reduceLayers).toHaveLength(0);
    expect(u.details!.layers.every((l) => l.kind === 'none' && l.imageOut === 65)).toBe(true);
  });

  it('truncates a question longer than the text window instead of failing', async () => {
    const vqa = await createVqaPipeline({ model: loaded });
    const long = `${'is there a red circle and a blue square and '.repeat(5)}a green triangle?`;
    const r = await vqa.answer(circles.path, long, { details: true });
    expect(r.truncated).toBe(true);
    expect(r.answers.length).toBeGreaterThan(0);
    expect(r.details!.layers[0].textIn).toBe(16);
  });

  it('reports unreadable images and unknown backends as PumerErrors', async () => {
    const vqa = await createVqaPipeline({ model: loaded });
    await expect(vqa.answer('/nonexistent.png', 'is there a red square?')).rejects.toMatchObject({
      code: 'IMAGE',
    });
    await expect(vqa.answer(new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8]), 'q')).rejects.toBeInstanceOf(
      PumerError,
    );
    await expect(createVqaPipeline({ model: loaded, backend: 'no-such-backend' })).rejects.toBeInstanceOf(
      BackendError,
    );
    await expect(createVqaPipeline({ model: loaded, reduction: 'fastest' as 'pumer' })).rejects.toMatchObject(
      { code: 'CONFIG' },
    );
  });
});

/** The CPU reference under another registry name, so a test can tell which backend ran. */
function renamedCpu(name: string): Backend {
  const cpu = createCpuBackend();
  return Object.assign(Object.create(cpu) as Backend, {
    name,
    info: () => ({ ...cpu.info(), name }),
  });
}

describe('VQA pipeline backends, through core registry only', () => {
  afterEach(async () => {
    removeBackend('cpu-twin');
    registerBackend('cpu', createCpuBackend, 1);
    await disposeBackends();
  });

  it('without a backend follows the active one at every call; info() says which and why', async () => {
    registerBackend('cpu-twin', () => renamedCpu('cpu-twin'), 0);
    const vqa = await createVqaPipeline({ model: loaded });
    // Nothing was active: the auto pick (cpu, priority 1 over 0) became the active backend.
    expect(vqa.info().backend).toMatchObject({ name: 'cpu', provider: 'typescript' });
    expect(vqa.info().backend.reason).toMatch(/^auto: /);
    const onCpu = await vqa.answer(circles.path, circles.question);
    await setBackend('cpu-twin');
    expect(vqa.info().backend).toMatchObject({ name: 'cpu-twin', reason: "set by setBackend('cpu-twin')" });
    expect(vqa.backend.info().name).toBe('cpu-twin');
    const onTwin = await vqa.answer(circles.path, circles.question);
    expect(onTwin.answers).toEqual(onCpu.answers);
  });

  it('keeps a backend given by name or object, whatever becomes active later', async () => {
    registerBackend('cpu-twin', () => renamedCpu('cpu-twin'), 0);
    const byName = await createVqaPipeline({ model: loaded, backend: 'cpu' });
    await setBackend('cpu-twin');
    await byName.answer(circles.path, circles.question);
    expect(byName.info().backend).toMatchObject({ name: 'cpu', reason: REQUESTED_BY_CALLER });
    const byObject = await createVqaPipeline({ model: loaded, backend: renamedCpu('mine') });
    expect(byObject.info().backend).toMatchObject({ name: 'mine', reason: REQUESTED_BY_CALLER });
  });

  it('info() names the schedule and the model', async () => {
    const vqa = await createVqaPipeline({ model: loaded, backend: 'cpu', reduction: 'paper' });
    expect(vqa.info().model).toBe(loaded.model.id);
    // paper is written for 12 layers; on this 6-layer model its layers scale to 1,2,4.
    expect(vqa.info().schedule).toMatchObject({ name: 'paper', config: { reduceLayers: [1, 2, 4] } });
    expect(vqa.info().schedule.description).toMatch(/scaled to 6 layers/);
    const none = await createVqaPipeline({ model: { ...loaded, reduction: null }, backend: 'cpu' });
    expect(none.info().schedule).toEqual({
      name: 'model',
      config: null,
      description: 'the checkpoint has no schedule: no reduction',
    });
    expect(none.reduction).toBeNull();
  });

  it('with no backend registered, says which package to install', async () => {
    for (const b of listBackends()) removeBackend(b.name);
    const error = await createVqaPipeline({ model: loaded }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as Error).message).toMatch(/no backend is registered/);
    for (const pkg of ['@pumer/backend-node', '@pumer/backend-webgpu', '@pumer/backend-cpu'])
      expect((error as Error).message).toContain(pkg);
  });
});
