import { readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  floatTensor,
  intTensor,
  namedSchedule,
  type ReductionConfig,
  type ViltInputs,
  type ViltModel,
} from '@pumer/core';
import { buildViltGraph } from '@pumer/onnx/graph';
import { checkpointDir } from '@pumer/testkit/node';
import { loadVilt } from '@pumer/vilt/node';
import { afterAll, describe, expect, it } from 'vitest';
import { createNodeBackend } from './backend.js';
import { GRAPH_CACHE_ENV, GRAPH_DATA_FILE, GraphDiskCache, graphCacheDirFromEnv } from './graph-cache.js';

const root = mkdtempSync(join(tmpdir(), 'pumer-graph-cache-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const loaded = loadVilt(checkpointDir('tiny-vilt-shapes'));
const model = loaded.model;
const geo = model.geometry;
const side = geo.imageSize;

/** One example with deterministic ids and pixels (the tiny model's full text window and image). */
const inputs: ViltInputs = {
  inputIds: intTensor(
    Array.from({ length: geo.maxTextLength }, (_, i) => (i * 7 + 3) % geo.vocabSize),
    [1, geo.maxTextLength],
  ),
  attentionMask: intTensor(new Array(geo.maxTextLength).fill(1), [1, geo.maxTextLength]),
  pixelValues: floatTensor(
    Float32Array.from({ length: 3 * side * side }, (_, i) => Math.sin(i) * 0.9),
    [1, 3, side, side],
  ),
};

let dirs = 0;
const freshDir = () => join(root, `cache-${++dirs}`);

/** A fresh backend on the cache at `dir` (as a new process would have): its one graph's start-up and logits. */
async function answer(
  dir: string | false,
  m: ViltModel = model,
  config: ReductionConfig | null = null,
): Promise<{ cache: string; logits: Float32Array; buildGraphMs: number; firstRunMs: number | null }> {
  const backend = await createNodeBackend({ provider: 'cpu', graphCache: dir, threads: 1 });
  try {
    const out = await backend.runVilt(m, inputs, config);
    const [startup] = backend.graphStartups(m);
    return {
      cache: startup!.graphCache,
      logits: out.logits.data,
      buildGraphMs: startup!.buildGraphMs,
      firstRunMs: startup!.firstRunMs,
    };
  } finally {
    await backend.dispose();
  }
}

/** The cache's entry folders (temporary folders start with a dot). */
const entries = (dir: string) => readdirSync(dir).filter((n) => !n.startsWith('.'));

describe('the on-disk graph cache', () => {
  it('stores a graph on first use and serves it to the next process unchanged: same answer', async () => {
    const dir = freshDir();
    const off = await answer(false);
    expect(off.cache).toBe('off');
    const first = await answer(dir);
    expect(first.cache).toBe('miss');
    expect(entries(dir)).toHaveLength(1);
    const second = await answer(dir);
    expect(second.cache).toBe('hit');
    expect(entries(dir)).toHaveLength(1);
    expect(second.logits).toEqual(first.logits);
    expect(first.logits).toEqual(off.logits);
    expect(second.firstRunMs).toBeGreaterThan(0);
  });

  it('rebuilds when the weights change (one value of one tensor)', async () => {
    const dir = freshDir();
    await answer(dir);
    const bias = Float32Array.from(model.weights.textNorm.bias.data);
    bias[0]! += 0.25;
    const changed: ViltModel = {
      ...model,
      weights: {
        ...model.weights,
        textNorm: { ...model.weights.textNorm, bias: floatTensor(bias, [bias.length]) },
      },
    };
    const r = await answer(dir, changed);
    expect(r.cache).toBe('miss');
    expect(entries(dir)).toHaveLength(2);
    expect(r.logits).not.toEqual((await answer(dir)).logits);
  });

  it('rebuilds when the config changes (labels, as config.json id2label gives them) and keeps the old entry', async () => {
    const dir = freshDir();
    await answer(dir);
    const relabelled: ViltModel = { ...model, labels: model.labels.map((l, i) => (i === 0 ? `${l}!` : l)) };
    expect((await answer(dir, relabelled)).cache).toBe('miss');
    expect((await answer(dir)).cache).toBe('hit');
  });

  it('rebuilds when the schedule changes, and serves each schedule its own graph', async () => {
    const dir = freshDir();
    const pumer = namedSchedule('pumer', geo.numLayers);
    const aggressive = namedSchedule('aggressive', geo.numLayers);
    expect((await answer(dir, model, pumer)).cache).toBe('miss');
    expect((await answer(dir, model, aggressive)).cache).toBe('miss');
    expect((await answer(dir, model, null)).cache).toBe('miss');
    expect((await answer(dir, model, pumer)).cache).toBe('hit');
    expect(entries(dir)).toHaveLength(3);
  });

  it('does not serve an entry written by another library version', () => {
    const dir = freshDir();
    const graph = buildViltGraph(model, { textLen: geo.maxTextLength, gridH: 4, gridW: 4 }, null).graph;
    const laid = graph.toExternalData({ location: GRAPH_DATA_FILE });
    const v1 = new GraphDiskCache(dir, '@pumer/onnx@0.1.0');
    v1.store('k', laid);
    expect(v1.lookup('k', laid).found).toBe('entry');
    expect(new GraphDiskCache(dir, '@pumer/onnx@0.2.0').lookup('k', laid).found).toBe('none');
    // The graph's key is part of the entry's name too.
    expect(v1.lookup('other key', laid).found).toBe('none');
  });

  it('finds an entry by key alone (no graph built) with what was stored beside it, for its version only', () => {
    const dir = freshDir();
    const graph = buildViltGraph(model, { textLen: geo.maxTextLength, gridH: 4, gridW: 4 }, null).graph;
    const laid = graph.toExternalData({ location: GRAPH_DATA_FILE });
    const v1 = new GraphDiskCache(dir, '@pumer/onnx@0.1.0');
    expect(v1.find('k').found).toBe('none');
    const onnxPath = v1.store('k', laid, { layers: [1, 2] });
    expect(v1.find('k')).toEqual({ found: 'entry', onnxPath, about: { layers: [1, 2] } });
    expect(v1.find('other key').found).toBe('none');
    expect(new GraphDiskCache(dir, '@pumer/onnx@0.2.0').find('k').found).toBe('none');
    // A pruned (removed) entry leaves its key unfound, not broken.
    v1.remove('k', laid);
    expect(v1.find('k').found).toBe('none');
  });

  it.each([
    ['a truncated weights file', (e: string) => truncateSync(join(e, GRAPH_DATA_FILE), 100)],
    ['a missing weights file', (e: string) => rmSync(join(e, GRAPH_DATA_FILE))],
    ['a damaged manifest', (e: string) => writeFileSync(join(e, 'entry.json'), '{"format": "pumer-gr')],
    ['a missing manifest (a write cut short)', (e: string) => rmSync(join(e, 'entry.json'))],
    [
      'a changed .onnx',
      (e: string) => {
        const onnx = readFileSync(join(e, 'model.onnx'));
        onnx[onnx.length - 1]! ^= 0xff;
        writeFileSync(join(e, 'model.onnx'), onnx);
      },
    ],
  ])('detects %s, rebuilds the entry and answers as before', async (_what, damage) => {
    const dir = freshDir();
    const first = await answer(dir);
    const [entry] = entries(dir);
    damage(join(dir, entry!));
    const again = await answer(dir);
    expect(again.cache).toBe('rebuilt');
    expect(again.logits).toEqual(first.logits);
    expect((await answer(dir)).cache).toBe('hit');
  });

  it('answers without the cache when it cannot be written (its folder is a file)', async () => {
    const notADir = join(root, 'a-file');
    writeFileSync(notADir, 'not a folder');
    const r = await answer(notADir);
    expect(r.cache).toBe('off');
    expect(r.logits).toEqual((await answer(false)).logits);
  });

  it('keeps within its size bound, dropping the least recently used entries', () => {
    const dir = freshDir();
    const lay = (grid: number) =>
      buildViltGraph(
        model,
        { textLen: geo.maxTextLength, gridH: grid, gridW: grid },
        null,
      ).graph.toExternalData({
        location: GRAPH_DATA_FILE,
      });
    const [a, b] = [lay(2), lay(3)];
    // Room for one entry only: storing the second drops the first.
    const cache = new GraphDiskCache(dir, 'v', a.dataBytes + b.model.byteLength + 4096);
    cache.store('a', a);
    cache.store('b', b);
    expect(cache.lookup('a', a).found).toBe('none');
    expect(cache.lookup('b', b).found).toBe('entry');
  });

  it('takes its folder from PUMER_GRAPH_CACHE (off disables it), else PUMER_CACHE, XDG_CACHE_HOME, ~/.cache', () => {
    expect(graphCacheDirFromEnv({ [GRAPH_CACHE_ENV]: '/x/graphs' })).toBe('/x/graphs');
    for (const off of ['off', '0', 'false', 'none', 'OFF'])
      expect(graphCacheDirFromEnv({ [GRAPH_CACHE_ENV]: off })).toBeNull();
    expect(graphCacheDirFromEnv({ PUMER_CACHE: '/c' })).toBe('/c/graphs');
    expect(graphCacheDirFromEnv({ XDG_CACHE_HOME: '/xdg' })).toBe('/xdg/pumer/graphs');
    expect(graphCacheDirFromEnv({})).toMatch(/\.cache[/\\]pumer[/\\]graphs$/);
  });
});
