import { describe, expect, it } from 'vitest';
import { stableRank } from './rank.js';

describe('stableRank', () => {
  it('ranks descending and ascending with ties lower-index-first (the same case as the onnx twin)', () => {
    const s = Float32Array.from([3, 1, 3, 2, 1]);
    expect(Array.from(stableRank(s, 0, 5, true))).toEqual([0, 3, 1, 2, 4]);
    expect(Array.from(stableRank(s, 0, 5, false))).toEqual([3, 0, 4, 2, 1]);
  });

  it('reads n entries from an offset', () => {
    expect(Array.from(stableRank(Float64Array.from([9, 9, 0.5, 0.7]), 2, 2, true))).toEqual([1, 0]);
  });
});
