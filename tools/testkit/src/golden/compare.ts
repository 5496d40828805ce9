import type { FloatTensor } from '@pumer/core';
import type { GoldenTensor } from './format.js';

/** The golden tolerance: |a - b| <= ATOL + RTOL·|b|, b the golden value. */
export const ATOL = 1e-4;
export const RTOL = 1e-4;

/** Accumulates the largest absolute error and the first problem found while comparing a case's outputs. */
export class Comparison {
  maxAbsErr = 0;
  problems: string[] = [];

  /** Compares `actual` with the golden `expected`: shape exactly, values within tolerance. */
  tensor(name: string, actual: FloatTensor | null | undefined, expected: GoldenTensor): void {
    if (!actual) {
      this.problems.push(`${name}: missing from the backend's result`);
      return;
    }
    const same =
      actual.shape.length === expected.shape.length && actual.shape.every((d, i) => d === expected.shape[i]);
    if (!same) {
      this.problems.push(
        `${name}: shape [${actual.shape.join(', ')}], expected [${expected.shape.join(', ')}]`,
      );
      return;
    }
    let bad = 0;
    let worst = -1;
    let worstExcess = 0;
    for (let i = 0; i < expected.data.length; i++) {
      const a = actual.data[i]!;
      const b = expected.data[i]!;
      const err = Math.abs(a - b);
      if (Number.isNaN(err)) {
        this.maxAbsErr = Number.NaN;
      } else if (err > this.maxAbsErr) {
        this.maxAbsErr = err;
      }
      const excess = Number.isNaN(err) ? Number.POSITIVE_INFINITY : err - (ATOL + RTOL * Math.abs(b));
      if (excess > 0) {
        bad++;
        if (excess > worstExcess) {
          worstExcess = excess;
          worst = i;
        }
      }
    }
    if (bad > 0) {
      const a = actual.data[worst]!;
      const b = expected.data[worst]!;
      this.problems.push(
        `${name}: ${bad} of ${expected.data.length} values out of tolerance, worst at flat index ${worst}: got ${a}, expected ${b}`,
      );
    }
  }

  /** An exact count (text_len, r, …). */
  count(name: string, actual: number, expected: number): void {
    if (actual !== expected) this.problems.push(`${name}: got ${actual}, expected ${expected}`);
  }

  get ok(): boolean {
    return this.problems.length === 0;
  }
}
