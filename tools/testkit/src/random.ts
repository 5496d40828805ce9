import { type BlockWeights, type FloatTensor, floatTensor, type LinearWeights } from '@pumer/core';

/**
 * Random test data from a generator of uniforms in [0, 1) — core's `seededRandom(seed)`, the project's one
 * seeded PRNG, so the same seed gives the same data everywhere.
 */

/** Uniform values in [lo, hi) of the given shape. */
export function randomTensor(next: () => number, shape: readonly number[], lo = -1, hi = 1): FloatTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = lo + (hi - lo) * next();
  return floatTensor(data, shape);
}

export function randomLinear(next: () => number, out: number, inDim: number): LinearWeights {
  const s = 1 / Math.sqrt(inDim);
  return { weight: randomTensor(next, [out, inDim], -s, s), bias: randomTensor(next, [out], -0.1, 0.1) };
}

/** Random block weights of width D and MLP width M (LayerNorm eps 1e-6). */
export function randomBlockWeights(next: () => number, D: number, M: number): BlockWeights {
  const ln = () => ({
    weight: randomTensor(next, [D], 0.5, 1.5),
    bias: randomTensor(next, [D], -0.1, 0.1),
    eps: 1e-6,
  });
  return {
    norm1: ln(),
    query: randomLinear(next, D, D),
    key: randomLinear(next, D, D),
    value: randomLinear(next, D, D),
    proj: randomLinear(next, D, D),
    norm2: ln(),
    fc1: randomLinear(next, M, D),
    fc2: randomLinear(next, D, M),
  };
}
