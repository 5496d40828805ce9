import type { FloatTensor } from '@pumer/core';
import { type Floats, toFloatTensor } from './arrays.js';

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const INV_SQRT_PI = 1 / Math.sqrt(Math.PI);
const SQRT_HALF = Math.SQRT1_2;

/** erf(x) for 0 <= x < 2.5: e^{-x²}·Σ (2x²)^n x / (1·3·…·(2n+1)), all terms positive, so no cancellation. */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200 && term > 1e-17 * sum; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/** erfc(x) for x >= 2.5 by its continued fraction, evaluated backwards (40 levels: relative error ~4e-15). */
function erfcContinuedFraction(x: number): number {
  let f = x;
  for (let k = 40; k >= 1; k--) f = x + k / 2 / f;
  return (INV_SQRT_PI * Math.exp(-x * x)) / f;
}

/**
 * A fast erf for GELU, built at load time from the series above: erf and e^{-x²} on a grid of step 1/32 over
 * [0, 6], then a Taylor step from the nearest grid point x_k (|d| <= 1/64), using
 * erf^(m+1)(x) = (2/√π)·(-1)^m·H_m(x)·e^{-x²} with Hermite polynomials H_m by their recurrence.
 * 11 terms keep the absolute error near 1e-16; beyond 6, erf is 1 to double precision.
 */
const GRID_STEP = 32;
const GRID_MAX = 6;
const TAYLOR_TERMS = 11;
const ERF_GRID = new Float64Array(GRID_MAX * GRID_STEP + 1);
const GAUSS_GRID = new Float64Array(GRID_MAX * GRID_STEP + 1);
const INV_N = new Float64Array(TAYLOR_TERMS + 2);
for (let k = 0; k < ERF_GRID.length; k++) {
  const x = k / GRID_STEP;
  ERF_GRID[k] = x < 2.5 ? erfSeries(x) : 1 - erfcContinuedFraction(x);
  GAUSS_GRID[k] = TWO_OVER_SQRT_PI * Math.exp(-x * x);
}
for (let n = 1; n < INV_N.length; n++) INV_N[n] = 1 / n;

function erfNonNegative(a: number): number {
  if (a >= GRID_MAX) return 1;
  const k = Math.round(a * GRID_STEP);
  const d = a - k / GRID_STEP;
  const y = -k / GRID_STEP; // (-1)^m·H_m(x) = H_m(-x)
  let hPrev = 1; // H_0
  let h = 2 * y; // H_1
  let c = d; // d^{m+1}/(m+1)!
  let sum = d; // m = 0 term
  for (let m = 1; m < TAYLOR_TERMS; m++) {
    c *= d * INV_N[m + 1]!;
    sum += h * c;
    const next = 2 * y * h - 2 * m * hPrev;
    hPrev = h;
    h = next;
  }
  return ERF_GRID[k]! + GAUSS_GRID[k]! * sum;
}

/** The error function (JavaScript's Math has none), absolute error ~1e-16. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  return x >= 0 ? erfNonNegative(x) : -erfNonNegative(-x);
}

/** The complementary error function, with relative accuracy ~1e-14 in the tail (x >= 2.5) too. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const a = Math.abs(x);
  const tail = a < 2.5 ? 1 - erfNonNegative(a) : erfcContinuedFraction(a);
  return x >= 0 ? tail : 2 - tail;
}

/** GELU, exact erf form: x·Φ(x) = ½·x·(1 + erf(x/√2)). */
export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x * SQRT_HALF));
}

export function geluInPlace(x: Floats): void {
  for (let i = 0; i < x.length; i++) x[i] = gelu(x[i]!);
}

/** Elementwise exact GELU. */
export function geluTensor(x: FloatTensor): FloatTensor {
  const y = Float64Array.from(x.data);
  geluInPlace(y);
  return toFloatTensor(y, x.shape);
}
