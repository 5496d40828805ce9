import { expectFinite, expectShape, type FloatTensor, type LayerNormWeights, PumerError } from '@pumer/core';
import { type Floats, toFloatTensor } from './arrays.js';

/** LayerNorm over each contiguous row of `dim` values: biased variance, eps inside the square root (PyTorch). */
export function layerNormRows(
  x: Floats,
  rows: number,
  dim: number,
  w: LayerNormWeights,
  out?: Float64Array,
): Float64Array {
  const g = w.weight.data;
  const b = w.bias.data;
  const y = out ?? new Float64Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let mean = 0;
    for (let k = 0; k < dim; k++) mean += x[o + k]!;
    mean /= dim;
    let variance = 0;
    for (let k = 0; k < dim; k++) {
      const d = x[o + k]! - mean;
      variance += d * d;
    }
    variance /= dim;
    const inv = 1 / Math.sqrt(variance + w.eps);
    for (let k = 0; k < dim; k++) y[o + k] = (x[o + k]! - mean) * inv * g[k]! + b[k]!;
  }
  return y;
}

export function expectLayerNorm(name: string, w: LayerNormWeights, dim: number): void {
  expectShape(`${name}.weight`, w.weight, [dim]);
  expectShape(`${name}.bias`, w.bias, [dim]);
  expectFinite(`${name}.weight`, w.weight);
  expectFinite(`${name}.bias`, w.bias);
  if (!(typeof w.eps === 'number' && w.eps >= 0 && Number.isFinite(w.eps))) {
    throw new PumerError('VALUE', `${name}.eps must be a finite number >= 0, got ${String(w.eps)}`);
  }
}

/** LayerNorm over the last axis of `x`. */
export function layerNorm(x: FloatTensor, w: LayerNormWeights): FloatTensor {
  const dim = x.shape[x.shape.length - 1] ?? 0;
  expectLayerNorm('layerNorm', w, dim);
  const rows = dim === 0 ? 0 : x.data.length / dim;
  return toFloatTensor(layerNormRows(x.data, rows, dim, w), x.shape);
}
