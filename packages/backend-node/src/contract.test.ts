import {
  type Backend,
  type BlockWeights,
  type FloatTensor,
  findBackend,
  floatTensor,
  getBackend,
  type MergeStyle,
  namedSchedule,
  type ReductionConfig,
  type Saliency,
  seededRandom,
  setBackend,
} from '@pumer/core';
import '@pumer/backend-cpu';
import { randomTensor } from '@pumer/testkit';
import { checkpointDir, hasSharedData } from '@pumer/testkit/node';
import { describeBackendContract } from '@pumer/testkit/vitest';
import { bundledImages, createVqaPipeline, loadVilt } from '@pumer/vilt/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeBackend, type NodeBackend } from './backend.js';
import './index.js';

// The Backend contract on onnxruntime-node: the shared suite (@pumer/testkit), then random inputs against the
// CPU reference: same indices, same values.

let shared: NodeBackend;
beforeAll(async () => {
  shared = await createNodeBackend({ provider: 'cpu' });
});
afterAll(() => shared?.dispose());
describeBackendContract('backend contract on node', () => shared);

/** Uniform values in [-scale, scale) from core's seeded generator. */
function randTensor(shape: number[], seed: number, scale = 1): FloatTensor {
  return randomTensor(seededRandom(seed), shape, -scale, scale);
}
function maxDiff(a: FloatTensor, b: FloatTensor): number {
  expect(a.shape).toEqual(b.shape);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}
function randomBlock(d: number, seed: number): BlockWeights {
  const lin = (o: number, i: number, s: number) => ({
    weight: randTensor([o, i], s, 0.3),
    bias: randTensor([o], s + 1, 0.1),
  });
  const ln = (s: number) => ({
    weight: randTensor([d], s, 0.2),
    bias: randTensor([d], s + 1, 0.1),
    eps: 1e-6,
  });
  const w = { ...ln(seed) };
  w.weight = floatTensor(
    w.weight.data.map((v) => 1 + v),
    [d],
  );
  return {
    norm1: w,
    query: lin(d, d, seed + 2),
    key: lin(d, d, seed + 4),
    value: lin(d, d, seed + 6),
    proj: lin(d, d, seed + 8),
    norm2: { ...w },
    fc1: lin(4 * d, d, seed + 10),
    fc2: lin(d, 4 * d, seed + 12),
  };
}

describe('Backend contract: node vs the CPU reference', async () => {
  const node = await createNodeBackend({ provider: 'cpu' });
  const cpu: Backend = await findBackend('cpu');
  afterAll(() => node.dispose());

  it.each(['first_head', 'mean_head', 'k_metric', 'qk'] as Saliency[])(
    'saliency %s and prune agree',
    async (method) => {
      const [b, h, n, t, hd] = [3, 4, 30, 7, 8];
      const attnRaw = randTensor([b, h, n, n], 1);
      const inputs = {
        attn: floatTensor(
          attnRaw.data.map((v) => Math.abs(v)),
          attnRaw.shape,
        ),
        kbar: randTensor([b, n, hd], 2),
        qbar: randTensor([b, n, hd], 3),
        textMask: floatTensor(
          Float32Array.from({ length: b * t }, (_, i) => (i % t < 5 ? 1 : i % t === 5 ? 0.5 : 0)),
          [b, t],
        ),
      };
      const [sn, sc] = [
        await node.pruner.saliency(method, inputs),
        await cpu.pruner.saliency(method, inputs),
      ];
      expect(maxDiff(sn, sc)).toBeLessThan(1e-5);
      const [pn, pc] = [await node.pruner.prune(sc, 17), await cpu.pruner.prune(sc, 17)];
      expect(Array.from(pn.keepIdx.data)).toEqual(Array.from(pc.keepIdx.data));
      expect(maxDiff(pn.scores, pc.scores)).toBe(0);
    },
  );

  it('prune breaks exact ties lower-index-first', async () => {
    const scores = floatTensor([0.5, 0.9, 0.5, 0.9, 0.1, 0.5], [1, 6]);
    const out = await node.pruner.prune(scores, 4);
    expect(Array.from(out.keepIdx.data)).toEqual([1, 3, 0, 2]);
    expect(Array.from(out.scores.data)).toEqual(Array.from(Float32Array.from([0.9, 0.9, 0.5, 0.5])));
  });

  const merges: [MergeStyle, number, number, boolean][] = [
    ['tip', 21, 6, true],
    ['tip', 10, 9, true],
    ['tome', 17, 5, true],
    ['tome', 12, 4, false],
    ['diff', 15, 5, true],
    ['diff', 8, 4, true],
    ['tome', 9, 0, true],
  ];
  it.each(merges)('merge %s n=%i r=%i agrees (protectFirst %s)', async (style, n, r, protectFirst) => {
    const args = {
      style,
      x: randTensor([2, n, 12], 10 + n),
      metric: randTensor([2, n, 8], 20 + n),
      saliency: floatTensor(
        randTensor([2, n], 30 + n).data.map((v) => Math.abs(v)),
        [2, n],
      ),
      r,
      protectFirst,
    };
    const [a, b] = [await node.merger.merge(args), await cpu.merger.merge(args)];
    expect(a.r).toBe(b.r);
    expect(Array.from(a.dst.data)).toEqual(Array.from(b.dst.data));
    expect(maxDiff(a.x, b.x)).toBeLessThan(1e-5);
    if (style === 'tome') expect(maxDiff(a.size!, b.size!)).toBeLessThan(1e-6);
  });

  // The paper's schedule on a one-layer model reduces at layer 0; on 12 layers, layer 0 is not a reduce layer.
  const paperAt0 = namedSchedule('paper', 1)!;
  const configs: [string, ReductionConfig | null, number][] = [
    ['paper tip', paperAt0, 0],
    ['tome + mean_head', { ...paperAt0, mergeStyle: 'tome', saliency: 'mean_head' }, 0],
    ['diff + qk', { ...paperAt0, mergeStyle: 'diff', saliency: 'qk' }, 0],
    ['ToMe baseline', { ...paperAt0, pruneRatio: 0, tomeCount: 5 }, 0],
    ['not a reduce layer', namedSchedule('paper', 12), 0],
    ['unreduced', null, 0],
  ];
  it.each(configs)('runBlock %s agrees', async (_label, config, layer) => {
    const [b, t, i, d] = [2, 9, 26, 32];
    const n = t + i;
    const mask = floatTensor(
      Float32Array.from({ length: b * n }, (_, k) => (k % n < t && k % n >= 6 + (k >= n ? 1 : 0) ? 0 : 1)),
      [b, n],
    );
    const args = {
      weights: randomBlock(d, 40),
      numHeads: 4,
      x: randTensor([b, n, d], 41),
      mask,
      textLen: t,
      config,
      layer,
    };
    const [a, c] = [await node.runBlock(args), await cpu.runBlock(args)];
    expect(a.textLen).toBe(c.textLen);
    expect(maxDiff(a.x, c.x)).toBeLessThan(1e-4);
    expect(maxDiff(a.mask, c.mask)).toBeLessThan(1e-6);
    expect(maxDiff(a.attn, c.attn)).toBeLessThan(1e-5);
    expect(a.trace.kind).toBe(c.trace.kind);
    for (const key of ['keepIdx', 'imageDst', 'textDst', 'tokenDst'] as const) {
      expect(a.trace[key]?.data && Array.from(a.trace[key]!.data)).toEqual(
        c.trace[key]?.data && Array.from(c.trace[key]!.data),
      );
    }
  });

  // Bad reducer input is the shared contract suite's; these are the whole-model checks.
  it('rejects bad model input with PumerErrors naming the problem', async () => {
    const m = loadVilt(checkpointDir('tiny-vilt-shapes'));
    const bad = {
      inputIds: { dtype: 'int32', shape: [1, 16], data: new Int32Array(16).fill(99) },
      attentionMask: { dtype: 'int32', shape: [1, 16], data: new Int32Array(16).fill(1) },
      pixelValues: randTensor([1, 3, 64, 64], 1),
    } as const;
    await expect(node.runVilt(m.model, bad, null)).rejects.toThrow(/token id 99, outside the vocabulary/);
    await expect(
      node.runVilt(
        m.model,
        {
          ...bad,
          inputIds: { ...bad.inputIds, data: new Int32Array(16) },
          pixelValues: randTensor([1, 3, 60, 64], 1),
        },
        null,
      ),
    ).rejects.toThrow(/multiples of the patch size 8/);
  });
});

describe.skipIf(!hasSharedData('models'))('through the registry and the VQA pipeline', () => {
  it('createVqaPipeline({ backend: "node" }) answers like the CPU backend, switching at run time', async () => {
    const model = loadVilt(checkpointDir('tiny-vilt-shapes-pumer'));
    const image = bundledImages()[0];
    const question = image.question;
    const viaNode = await createVqaPipeline({ model, backend: 'node' });
    const viaCpu = await createVqaPipeline({ model, backend: 'cpu' });
    const [a, b] = [await viaNode.answer(image.path, question), await viaCpu.answer(image.path, question)];
    expect(a.answers[0].label).toBe(b.answers[0].label);
    expect(Math.abs(a.answers[0].logit - b.answers[0].logit)).toBeLessThan(1e-3);
    expect((await setBackend('node')).info().name).toBe('node');
    expect(getBackend().name).toBe('node');
    expect((await setBackend('cpu')).name).toBe('cpu');
    expect((await setBackend('node')).name).toBe('node');
  }, 60_000);
});
