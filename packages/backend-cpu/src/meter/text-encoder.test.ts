import { describe, expect, it } from 'vitest';
import { additiveMaskRow } from '../ops/attention.js';
import { robertaPositionIds } from './text-encoder.js';

describe('robertaPositionIds', () => {
  it('numbers tokens from padTokenId + 1 and gives pads padTokenId', () => {
    // <s> a b </s> <pad> <pad>
    expect(Array.from(robertaPositionIds([0, 5, 6, 2, 1, 1], 1, 6, 1))).toEqual([2, 3, 4, 5, 1, 1]);
  });
  it('counts only non-pad tokens, so a pad inside the row does not advance the count', () => {
    expect(Array.from(robertaPositionIds([1, 0, 7, 1, 2], 1, 5, 1))).toEqual([1, 2, 3, 1, 4]);
  });
  it('numbers each example of a batch on its own', () => {
    expect(Array.from(robertaPositionIds([0, 2, 1, 0, 9, 2], 2, 3, 1))).toEqual([2, 3, 1, 2, 3, 4]);
  });
});

describe('additiveMaskRow (RoBERTa self-attention)', () => {
  it('gives masked keys probability 0 and is a plain softmax over the rest', () => {
    const p = new Float64Array(3);
    additiveMaskRow(Float64Array.from([1, 2, 5]), Float64Array.from([1, 1, 0]), 0, 0, 3, p, 0);
    const e = Math.exp(1 - 2);
    expect(p[0]).toBeCloseTo(e / (1 + e), 15);
    expect(p[1]).toBeCloseTo(1 / (1 + e), 15);
    expect(p[2]).toBe(0);
  });
  it('does not let a masked query row see itself (unlike the soft mask)', () => {
    const p = new Float64Array(2);
    additiveMaskRow(Float64Array.from([0, 0]), Float64Array.from([1, 0]), 0, 1, 2, p, 0);
    expect(Array.from(p)).toEqual([1, 0]);
  });
});
