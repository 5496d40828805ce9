import { describe, expect, it } from 'vitest';
import { PumerError, ShapeError } from './errors.js';
import { interpolatePositionEmbeddings } from './position-embeddings.js';
import { expectFinite, expectShape, floatTensor, intTensor, zeros } from './tensor.js';

describe('tensor', () => {
  it('checks data length against the shape', () => {
    expect(() => floatTensor([1, 2, 3], [2, 2])).toThrow(ShapeError);
    expect(intTensor([1, 2, 3, 4], [2, 2]).data).toBeInstanceOf(Int32Array);
    expect(zeros([2, 3]).data.length).toBe(6);
  });

  it('expectShape names the tensor and both shapes', () => {
    expect(() => expectShape('x', zeros([2, 3]), [2, null, 4])).toThrow(
      /x has shape \[2, 3\], expected \[2, \?, 4\]/,
    );
    expect(() => expectShape('x', zeros([2, 3, 4]), [2, null, 4])).not.toThrow();
  });

  it('expectFinite rejects NaN and infinities', () => {
    expect(() => expectFinite('m', floatTensor([0, Number.NaN], [2]))).toThrow(PumerError);
    expect(() => expectFinite('m', floatTensor([0, Number.POSITIVE_INFINITY], [2]))).toThrow(/non-finite/);
  });
});

describe('interpolatePositionEmbeddings', () => {
  // 2x2 grid, D = 1: values 10, 20 / 30, 40 (row 0 is the [CLS] position, 5).
  const pos = floatTensor([5, 10, 20, 30, 40], [5, 1]);

  it('returns the input for the trained grid', () => {
    expect(interpolatePositionEmbeddings(pos, 2, 2)).toBe(pos);
  });

  it('interpolates bilinearly with aligned corners and keeps the [CLS] row', () => {
    const out = interpolatePositionEmbeddings(pos, 3, 3);
    expect([...out.data]).toEqual([5, 10, 15, 20, 20, 25, 30, 30, 35, 40]);
  });

  it('rejects a non-square table', () => {
    expect(() => interpolatePositionEmbeddings(floatTensor([1, 2, 3], [3, 1]), 2, 2)).toThrow(ShapeError);
  });
});
