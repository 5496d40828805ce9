import {
  checkMergeArgs,
  checkPruneArgs,
  checkSaliencyArgs,
  floatTensor,
  intTensor,
  type MergeArgs,
  namedSchedule,
  PumerError,
  type ViltInputs,
  type ViltModel,
} from '@pumer/core';
import { describe, expect, it } from 'vitest';
import { RecordingRuntime } from './recording-runtime.test-helpers.js';
import { OrtGraphBackend, viltGeometryOf } from './ort-backend.js';
import { tinyModel } from './tiny-model.test-helpers.js';

// The paper's schedule as it stands on the 12-layer ViLT: reduce layers 2, 5, 8.
const PAPER = namedSchedule('paper', 12)!;

function inputs(b: number, t: number, h: number, w: number): ViltInputs {
  return {
    inputIds: intTensor(
      Int32Array.from({ length: b * t }, (_, i) => i % 11),
      [b, t],
    ),
    attentionMask: intTensor(new Int32Array(b * t).fill(1), [b, t]),
    pixelValues: floatTensor(
      new Float32Array(b * 3 * h * w).map((_, i) => Math.sin(i)),
      [b, 3, h, w],
    ),
  };
}

describe('OrtGraphBackend over a GraphRuntime', () => {
  it('reports the runtime under its own name', () => {
    const backend = new OrtGraphBackend('test', new RecordingRuntime());
    expect(backend.info()).toEqual({
      name: 'test',
      provider: 'cpu',
      requested: 'auto',
      fallbackReason: 'test',
    });
  });

  it('compiles each reducer graph once, labelled by its cache key, and releases every session on dispose', async () => {
    const runtime = new RecordingRuntime();
    const backend = new OrtGraphBackend('test', runtime);
    const scores = floatTensor(Float32Array.from([0.1, 0.9, 0.5, 0.3]), [1, 4]);
    const first = await backend.pruner.prune(scores, 2);
    const again = await backend.pruner.prune(scores, 2);
    expect([...first.keepIdx.data].sort()).toEqual([1, 2]);
    expect(again.keepIdx.data).toEqual(first.keepIdx.data);
    expect(runtime.created).toEqual([{ label: 'prune|4|2', kind: 'reducer' }]);
    await backend.dispose();
    expect(runtime.released).toBe(1);
  });

  it('runs the whole model through one cached session per geometry and schedule', async () => {
    const runtime = new RecordingRuntime();
    const backend = new OrtGraphBackend('test', runtime, { modelCacheSize: 1 });
    const model = tinyModel('m');
    const config = { ...PAPER, reduceLayers: [1], pruneRatio: 0.3, mergeRatio: 0.3 };
    const out = await backend.runVilt(model, inputs(2, 5, 12, 20), config);
    expect(out.logits.shape).toEqual([2, 3]);
    expect(out.layers.map((l) => l.kind)).toEqual(['none', 'pumer', 'none']);
    await backend.runVilt(model, inputs(1, 5, 12, 20), config);
    expect(runtime.created.map((c) => c.kind)).toEqual(['vilt']);
    expect(runtime.created[0]!.label).toMatch(/^vilt\|m\|[0-9a-f]{16}\|vqa\|I1\|T5\|3x5\|/);
    const geometry = viltGeometryOf(model, inputs(1, 5, 12, 20));
    expect(geometry).toEqual({ textLen: 5, gridH: 3, gridW: 5, numImages: 1 });
    await backend.runVilt(model, inputs(1, 5, 12, 20), null); // evicts (capacity 1) and releases the first
    expect(runtime.released).toBe(1);
    await backend.dispose();
    expect(runtime.released).toBe(2);
  });

  it("gives each model its own answers when two share an id (one weights file, another config's labels or weights)", async () => {
    const a = tinyModel('shared-id');
    const head = a.weights.head;
    if (head.kind !== 'classifier') throw new Error('expected a classifier head');
    const bias = head.fc2.bias!;
    const b: ViltModel = {
      ...tinyModel('shared-id'),
      weights: {
        ...a.weights,
        head: { ...head, fc2: { ...head.fc2, bias: { ...bias, data: bias.data.map((v) => v + 2) } } },
      },
    };
    const x = inputs(1, 5, 8, 8);
    const alone = async (m: ViltModel) => {
      const fresh = new OrtGraphBackend('fresh', new RecordingRuntime());
      const out = await fresh.runVilt(m, x, null);
      await fresh.dispose();
      return [...out.logits.data];
    };
    const shared = new OrtGraphBackend('test', new RecordingRuntime());
    const first = [...(await shared.runVilt(a, x, null)).logits.data];
    const second = [...(await shared.runVilt(b, x, null)).logits.data];
    await shared.dispose();
    expect(first).toEqual(await alone(a));
    expect(second).toEqual(await alone(b));
    expect(second[0]! - first[0]!).toBeCloseTo(2, 4);
  });

  it('does not keep a failed whole-model compile', async () => {
    const runtime = new RecordingRuntime();
    const backend = new OrtGraphBackend('test', runtime);
    runtime.failKind = 'vilt';
    await expect(backend.runVilt(tinyModel('m'), inputs(1, 5, 8, 8), null)).rejects.toThrow(/no session/);
    runtime.failKind = null;
    const out = await backend.runVilt(tinyModel('m'), inputs(1, 5, 8, 8), null);
    expect(out.logits.shape).toEqual([1, 3]);
    expect(runtime.created.map((c) => c.kind)).toEqual(['vilt', 'vilt']);
    await backend.dispose();
  });

  it("rejects bad input with core's checks: the same code and message as every backend", async () => {
    const backend = new OrtGraphBackend('test', new RecordingRuntime());
    const errorOf = async (run: () => unknown) => {
      try {
        await run();
      } catch (err) {
        return err instanceof PumerError ? `${err.code}: ${err.message}` : `not a PumerError: ${String(err)}`;
      }
      return 'no error';
    };
    const x = floatTensor(new Float32Array(12), [1, 4, 3]);
    const merges: MergeArgs[] = [
      { style: 'tome', x, r: 1 },
      { style: 'tip', x, metric: floatTensor(new Float32Array(8), [1, 4, 2]), r: 1 },
      { style: 'diff', x, saliency: floatTensor(new Float32Array(5), [1, 5]), r: 1 },
      { style: 'tome', x, metric: floatTensor(new Float32Array(8), [1, 4, 2]), r: -1 },
    ];
    for (const args of merges) {
      const expected = await errorOf(() => checkMergeArgs(args));
      expect(expected).toMatch(/^(VALUE|SHAPE): /);
      expect(await errorOf(() => backend.merger.merge(args))).toBe(expected);
    }
    const scores = floatTensor([0.1, Number.NaN, 0.3], [1, 3]);
    expect(await errorOf(() => backend.pruner.prune(scores, 2))).toBe(
      await errorOf(() => checkPruneArgs(scores, 2)),
    );
    const good = floatTensor([0.1, 0.2, 0.3], [1, 3]);
    expect(await errorOf(() => backend.pruner.prune(good, 4))).toBe(
      await errorOf(() => checkPruneArgs(good, 4)),
    );
    const noText = { kbar: floatTensor(new Float32Array(8), [1, 4, 2]), textMask: floatTensor([0], [1, 1]) };
    expect(await errorOf(() => backend.pruner.saliency('k_metric', noText))).toBe(
      await errorOf(() => checkSaliencyArgs('k_metric', noText)),
    );
    expect(await errorOf(() => backend.pruner.saliency('qk', noText))).toMatch(
      /^VALUE: qbar \(needed by qk\)/,
    );
    await backend.dispose();
  });
});
