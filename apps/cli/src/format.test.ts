import { describe, expect, it } from 'vitest';
import { signedPoints } from './format.js';

describe('signedPoints', () => {
  it('always shows the sign of an accuracy difference, in percentage points', () => {
    expect(signedPoints(0.03)).toBe('+3.00');
    expect(signedPoints(-0.03)).toBe('−3.00');
    expect(signedPoints(0.8433 - 0.8333)).toBe('+1.00');
  });

  it('a difference that rounds to zero is ±0.00, never -0.00', () => {
    expect(signedPoints(0)).toBe('±0.00');
    expect(signedPoints(-0.00001)).toBe('±0.00');
  });
});
