import { expectFinite, expectShape, type FloatTensor, PumerError, ShapeError } from '@pumer/core';

/** A float32 tensor of the given shape (null: any size) with finite values, or a PumerError naming `name`. */
export function expectFloatInput(
  name: string,
  t: FloatTensor | undefined | null,
  shape: readonly (number | null)[],
): void {
  if (t === undefined || t === null) throw new PumerError('VALUE', `${name} is required`);
  if (t.dtype !== 'float32' || !(t.data instanceof Float32Array)) {
    throw new ShapeError(`${name} must be a float32 tensor, got dtype ${String(t.dtype)}`);
  }
  expectShape(name, t, shape);
  expectFinite(name, t);
}

/** An integer in [min, max], or a PumerError naming `name` and the allowed range. */
export function expectInteger(name: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new PumerError('VALUE', `${name} must be an integer, got ${String(v)}`);
  }
  if (v < min || v > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new PumerError('VALUE', `${name} must be ${range}, got ${v}`);
  }
  return v;
}
