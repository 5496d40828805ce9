import {
  floatTensor,
  getBackend,
  listBackends,
  PumerError,
  seededRandom as rng,
  setBackend,
} from '@pumer/core';
import { randomTensor } from '@pumer/testkit';
import { describeBackendContract } from '@pumer/testkit/vitest';
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from './index.js';

describe('cpu backend', () => {
  it('registers itself as "cpu" on import, at priority 1', async () => {
    expect(listBackends().find((b) => b.name === 'cpu')).toMatchObject({ name: 'cpu', priority: 1 });
    const backend = await setBackend('cpu');
    expect(getBackend()).toBe(backend);
    expect(backend.info()).toEqual({ name: 'cpu', provider: 'typescript' });
  });

  it('runs the contract asynchronously and turns bad input into rejections', async () => {
    const b = createCpuBackend();
    const next = rng(11);
    const scores = await b.pruner.saliency('k_metric', {
      kbar: randomTensor(next, [1, 6, 4]),
      textMask: floatTensor([1, 1], [1, 2]),
    });
    expect(scores.shape).toEqual([1, 4]);
    const pruned = await b.pruner.prune(scores, 2);
    expect(pruned.keepIdx.shape).toEqual([1, 2]);
    const merged = await b.merger.merge({
      style: 'tome',
      x: randomTensor(next, [1, 6, 3]),
      metric: randomTensor(next, [1, 6, 4]),
      r: 2,
    });
    expect(merged.x.shape).toEqual([1, 4, 3]);
    await expect(b.merger.merge({ style: 'tome', x: randomTensor(next, [1, 6, 3]), r: -2 })).rejects.toThrow(
      PumerError,
    );
    await expect(b.pruner.saliency('first_head', { textMask: floatTensor([1], [1, 1]) })).rejects.toThrow(
      /attn \(needed by first_head\) is required/,
    );
    await expect(b.runBlock({} as never)).rejects.toThrow(PumerError);
  });
});

// The contract every backend runs (@pumer/testkit): its expected values are this backend's outputs.
describeBackendContract('backend contract on cpu', () => createCpuBackend());
