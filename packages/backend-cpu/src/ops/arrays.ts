import { type FloatTensor, floatTensor } from '@pumer/core';

/** The element arrays the CPU kernels read: float32 from tensors, float64 for intermediates inside a block. */
export type Floats = Float32Array | Float64Array;

/** Wraps float64 intermediates as a float32 tensor (the public dtype). */
export function toFloatTensor(data: Floats, shape: readonly number[]): FloatTensor {
  return floatTensor(data instanceof Float32Array ? data : Float32Array.from(data), shape);
}
