import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { settledCheckpointCopy, settledTime } from '@pumer/testkit/node';
import { bundledImages, createPipeline, loadVilt } from '@pumer/vilt/node';
import { afterAll, describe, expect, it } from 'vitest';
import { createNodeBackend } from './backend.js';

/**
 * A warm start (graph cache and checkpoint memo both hold this checkpoint) reads no weights and builds no
 * graph; a touched weights file is hashed again, a changed one gives a new graph.
 */

const root = mkdtempSync(join(tmpdir(), 'pumer-warm-start-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const image = bundledImages()[0]!;
const WEIGHTS = 'model.safetensors';
/** A private copy of the tiny checkpoint, modified an hour ago (older than the memo's "just modified" window). */
const checkpoint = (name: string) => settledCheckpointCopy('tiny-vilt-shapes', join(root, name));

/** A fresh loader, backend and pipeline (as a new process has) over the cache at `cache`: the answer and start-up. */
async function firstAnswer(dir: string, cache: string) {
  const loaded = loadVilt(dir, { memo: join(cache, '.checkpoints') });
  const backend = await createNodeBackend({ provider: 'cpu', graphCache: cache, threads: 1 });
  try {
    const pipeline = await createPipeline('vqa', { model: loaded, backend, reduction: 'pumer' });
    const answer = await pipeline.answer(image.path, image.question);
    return { answer, graph: pipeline.info().startup!.graphs[0]! };
  } finally {
    await backend.dispose();
  }
}

/** Rewrites the weights file in place through `change`, then sets its mtime to `mtime` (default: kept). */
function rewrite(file: string, change: (bytes: Buffer) => void, mtime = statSync(file).mtime): void {
  const bytes = readFileSync(file);
  change(bytes);
  writeFileSync(file, bytes);
  utimesSync(file, mtime, mtime);
}

/** Adds `delta` to the first value of the tensor `name` of a safetensors file. */
function nudge(name: string, delta: number) {
  return (bytes: Buffer) => {
    const headerLength = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<
      string,
      { data_offsets: [number, number] }
    >;
    const at = 8 + headerLength + header[name]!.data_offsets[0];
    bytes.writeFloatLE(bytes.readFloatLE(at) + delta, at);
  };
}

describe('a warm start', () => {
  it('reads no weights and builds no graph: a damaged weights file with its identity kept still answers', async () => {
    const dir = checkpoint('warm');
    const cache = join(root, 'cache-warm');
    const cold = await firstAnswer(dir, cache);
    expect(cold.graph).toMatchObject({ graphCache: 'miss' });
    expect(cold.graph.hashWeightsMs).toBeGreaterThan(0);
    // Same inode, size and mtime: the memo holds; any read of the weights would now fail.
    rewrite(join(dir, WEIGHTS), (b) => b.fill(0, 0, 64));
    const warm = await firstAnswer(dir, cache);
    expect(warm.graph).toMatchObject({ graphCache: 'hit', buildGraphMs: 0, writeGraphMs: 0 });
    expect(warm.graph.graph).toBe(cold.graph.graph);
    expect(warm.answer.logits).toEqual(cold.answer.logits);
  });

  it('hashes a touched weights file again (same content: the same graph), and rebuilds for a changed one', async () => {
    const dir = checkpoint('touched');
    const cache = join(root, 'cache-touched');
    const cold = await firstAnswer(dir, cache);
    const file = join(dir, WEIGHTS);
    const touched = new Date(settledTime().getTime() + 60_000);
    utimesSync(file, touched, touched);
    const again = await firstAnswer(dir, cache);
    expect(again.graph.hashWeightsMs).toBeGreaterThan(0);
    expect(again.graph).toMatchObject({ graphCache: 'hit', graph: cold.graph.graph });

    rewrite(file, nudge('classifier.3.bias', 0.5), new Date(touched.getTime() + 60_000));
    const changed = await firstAnswer(dir, cache);
    expect(changed.graph.hashWeightsMs).toBeGreaterThan(0);
    expect(changed.graph.graphCache).toBe('miss');
    expect(changed.graph.graph).not.toBe(cold.graph.graph);
  });
});
