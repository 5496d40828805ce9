import { describe, expect, it } from 'vitest';
import { median, percentile } from './stats.js';

describe('bench statistics', () => {
  it('median of odd and even counts, input left unsorted', () => {
    const xs = [5, 1, 3];
    expect(median(xs)).toBe(3);
    expect(xs).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('nearest-rank percentiles', () => {
    const xs = [10, 20, 30, 40, 50, 60, 70];
    expect(percentile(xs, 50)).toBe(40);
    expect(percentile(xs, 95)).toBe(70);
    expect(percentile(xs, 1)).toBe(10);
    expect(percentile([7], 95)).toBe(7);
  });
});
