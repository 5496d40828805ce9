import { describe, expect, it } from 'vitest';
import { plainSoftmaxRow } from '../ops/attention.js';
import { quickGelu } from './image-encoder.js';

describe('CLIP pieces', () => {
  it('QuickGELU is z·sigmoid(1.702 z), finite far out', () => {
    expect(quickGelu(1)).toBeCloseTo(1 / (1 + Math.exp(-1.702)), 15);
    expect(quickGelu(-2)).toBeCloseTo(-2 / (1 + Math.exp(3.404)), 15);
    expect(quickGelu(0)).toBe(0);
    expect(quickGelu(-1000)).toBeCloseTo(0, 300);
    expect(quickGelu(1000)).toBe(1000);
  });
  it('the plain softmax ignores any mask and has no eps floor', () => {
    const p = new Float64Array(3);
    plainSoftmaxRow(
      Float64Array.from([0, Math.log(2), Math.log(5)]),
      Float64Array.from([0, 0, 0]),
      0,
      0,
      3,
      p,
      0,
    );
    expect(p[0]).toBeCloseTo(1 / 8, 15);
    expect(p[1]).toBeCloseTo(2 / 8, 15);
    expect(p[2]).toBeCloseTo(5 / 8, 15);
  });
});
