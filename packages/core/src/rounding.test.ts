import { describe, expect, it } from 'vitest';
import { roundHalfEven } from './rounding.js';

describe('roundHalfEven (Python round)', () => {
  it.each([
    [14.5, 14],
    [15.5, 16],
    [43.5, 44],
    [0.5, 0],
    [1.5, 2],
    [2.4999, 2],
    [2.5001, 3],
    [8, 8],
  ])('rounds %s to %s', (x, y) => {
    expect(roundHalfEven(x)).toBe(y);
  });

  it('matches 0.1 * 145 = 14.5 -> 14 as the reference does', () => {
    expect(roundHalfEven(0.1 * 145)).toBe(14);
  });

  it('rejects non-finite input', () => {
    expect(() => roundHalfEven(Number.NaN)).toThrow(RangeError);
  });
});
