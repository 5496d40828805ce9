import { describe, expect, it } from 'vitest';
import { decodeTensor, encodeTensor, floatToBF16, floatToHalf, halfToFloat } from './tensors.js';

describe('tensor element codecs', () => {
  it('rounds float32 to half precision to nearest even, with overflow, subnormals and NaN', () => {
    const cases: [number, number][] = [
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [65504, 0x7bff],
      [65519, 0x7bff], // below the midpoint to infinity
      [65520, 0x7c00], // the midpoint rounds (to even) up to infinity
      [1e9, 0x7c00],
      [Number.NEGATIVE_INFINITY, 0xfc00],
      [2 ** -24, 0x0001],
      [2 ** -25, 0x0000], // tie with 0: even
      [1.5 * 2 ** -24, 0x0002], // tie between 1 and 2 subnormal units: even
      [2 ** -14, 0x0400], // smallest normal
      [1 + 2 ** -11, 0x3c00], // tie: even mantissa
      [1 + 3 * 2 ** -11, 0x3c02], // tie: rounds up to even
      [-0, 0x8000],
    ];
    for (const [v, bits] of cases) expect(floatToHalf(v), String(v)).toBe(bits);
    expect(floatToHalf(Number.NaN) & 0x7c00).toBe(0x7c00);
    expect(Number.isNaN(halfToFloat(floatToHalf(Number.NaN)))).toBe(true);
  });

  it('rounds float32 to bfloat16 to nearest even and keeps NaN a NaN', () => {
    expect(floatToBF16(1)).toBe(0x3f80);
    expect(floatToBF16(-3)).toBe(0xc040);
    expect(floatToBF16(1 + 2 ** -8)).toBe(0x3f80); // tie: even
    expect(floatToBF16(1 + 3 * 2 ** -8)).toBe(0x3f82); // tie: up to even
    expect(floatToBF16(1 + 2 ** -8 + 2 ** -20)).toBe(0x3f81);
    expect(floatToBF16(Number.POSITIVE_INFINITY)).toBe(0x7f80);
    expect(floatToBF16(Number.NaN) & 0x7fc0).toBe(0x7fc0);
  });

  it('decodes and encodes every dtype, little-endian', () => {
    const bytes = Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0x80]);
    expect(decodeTensor('I64', [1], bytes).data).toEqual(BigInt64Array.from([-(2n ** 63n) + 1n]));
    expect(decodeTensor('I32', [2], bytes).data).toEqual(Int32Array.from([1, -(2 ** 31)]));
    expect(decodeTensor('I16', [4], bytes).data).toEqual(Int16Array.from([1, 0, 0, -32768]));
    expect(decodeTensor('I8', [8], bytes).data).toEqual(Int8Array.from([1, 0, 0, 0, 0, 0, 0, -128]));
    expect(decodeTensor('F64', [1], encodeTensor('F64', Float32Array.from([0.25]), 'x')).data).toEqual(
      Float32Array.from([0.25]),
    );
    // An unaligned view (as a Node Buffer slice can be) decodes the same.
    const padded = new Uint8Array(9);
    padded.set(bytes, 1);
    expect(decodeTensor('I32', [2], padded.subarray(1)).data).toEqual(Int32Array.from([1, -(2 ** 31)]));
    expect(() => encodeTensor('I32', Float32Array.from([1]), 'x')).toThrow(
      /Float32Array data cannot be written as I32/,
    );
  });
});
