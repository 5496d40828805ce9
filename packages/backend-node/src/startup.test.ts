import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCpuBackend } from '@pumer/backend-cpu';
import { checkpointDir } from '@pumer/testkit/node';
import { bundledImages, createPipeline, loadVilt } from '@pumer/vilt/node';
import { afterAll, describe, expect, it } from 'vitest';
import { createNodeBackend } from './backend.js';

const dir = mkdtempSync(join(tmpdir(), 'pumer-startup-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const image = bundledImages()[0]!;

/** A fresh pipeline (as a new process would open) on a node backend over the graph cache at `dir`. */
async function firstAnswer() {
  const backend = await createNodeBackend({ provider: 'cpu', graphCache: dir, threads: 1 });
  const pipeline = await createPipeline('vqa', {
    model: loadVilt(checkpointDir('tiny-vilt-shapes')),
    backend,
    reduction: 'pumer',
  });
  const before = pipeline.info().startup!;
  await pipeline.answer(image.path, image.question);
  const after = pipeline.info().startup!;
  await backend.dispose();
  return { before, after };
}

describe("the pipeline's start-up phases (info().startup)", () => {
  it('reports reading the checkpoint, then the graph built, written, loaded (cache miss, then hit) and its first run', async () => {
    const cold = await firstAnswer();
    expect(cold.before.readWeightsMs).toBeGreaterThan(0);
    expect(cold.before.graphs).toEqual([]);
    expect(cold.after.graphs).toHaveLength(1);
    const g = cold.after.graphs[0]!;
    expect(g).toMatchObject({ graphCache: 'miss', schedule: expect.stringMatching(/^L1\.3_/) });
    for (const phase of [
      'hashWeightsMs',
      'buildGraphMs',
      'writeGraphMs',
      'createSessionMs',
      'firstRunMs',
    ] as const)
      expect(g[phase], phase).toBeGreaterThan(0);

    const warm = await firstAnswer();
    const h = warm.after.graphs[0]!;
    expect(h.graphCache).toBe('hit');
    expect(h.writeGraphMs).toBe(0);
    expect(h.graph).toBe(g.graph);
  });

  it('lists no graphs on a backend that compiles none (cpu), but still the checkpoint read', async () => {
    const pipeline = await createPipeline('vqa', {
      model: loadVilt(checkpointDir('tiny-vilt-shapes')),
      backend: createCpuBackend(),
    });
    await pipeline.answer(image.path, image.question);
    const s = pipeline.info().startup!;
    expect(s.readWeightsMs).toBeGreaterThan(0);
    expect(s.graphs).toEqual([]);
  });
});
