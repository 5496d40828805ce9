import { seededRandom } from '@pumer/core';
import { describe, expect, it } from 'vitest';
import { randomBlockWeights, randomTensor } from './random.js';

describe('random test data', () => {
  it('is the same for the same seed, within [lo, hi)', () => {
    const a = randomTensor(seededRandom(3), [2, 3], -2, 2);
    expect(Array.from(a.data)).toEqual(Array.from(randomTensor(seededRandom(3), [2, 3], -2, 2).data));
    expect(a.shape).toEqual([2, 3]);
    expect(a.data.every((v) => v >= -2 && v < 2)).toBe(true);
    expect(Array.from(randomTensor(seededRandom(4), [2, 3]).data)).not.toEqual(Array.from(a.data));
  });

  it('gives block weights of width D and MLP width M', () => {
    const w = randomBlockWeights(seededRandom(1), 4, 8);
    expect(w.query.weight.shape).toEqual([4, 4]);
    expect(w.fc1.weight.shape).toEqual([8, 4]);
    expect(w.fc2.weight.shape).toEqual([4, 8]);
    expect(w.norm2.eps).toBe(1e-6);
  });
});
