import {
  type Backend,
  type FloatTensor,
  floatTensor,
  type ModelGeometry,
  type ReductionConfig,
  schedule,
  seededRandom,
} from '@pumer/core';
import { median } from './stats.js';

function randomTensor(shape: number[], rand: () => number): FloatTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = 2 * rand() - 1;
  return floatTensor(data, shape);
}

/** Rows of softmax-normalised random scores: a plausible attention tensor [B, H, N, N]. */
function randomAttention(b: number, h: number, n: number, rand: () => number): FloatTensor {
  const data = new Float32Array(b * h * n * n);
  for (let row = 0; row < b * h * n; row++) {
    let sum = 0;
    for (let j = 0; j < n; j++) sum += data[row * n + j] = Math.exp(2 * rand());
    for (let j = 0; j < n; j++) data[row * n + j]! /= sum;
  }
  return floatTensor(data, [b, h, n, n]);
}

/** Rows `idx[b, k]` of `x` [B, n, C] → [B, k, C]. */
function gatherRows(x: FloatTensor, idx: Int32Array, k: number): FloatTensor {
  const [b, n, c] = x.shape as [number, number, number];
  const out = new Float32Array(b * k * c);
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < k; j++) {
      const src = (i * n + idx[i * k + j]!) * c;
      out.set(x.data.subarray(src, src + c), (i * k + j) * c);
    }
  }
  return floatTensor(out, [b, k, c]);
}

function sliceRows(x: FloatTensor, from: number, to: number): FloatTensor {
  const [b, n, c] = x.shape as [number, number, number];
  const out = new Float32Array(b * (to - from) * c);
  for (let i = 0; i < b; i++)
    out.set(x.data.subarray((i * n + from) * c, (i * n + to) * c), i * (to - from) * c);
  return floatTensor(out, [b, to - from, c]);
}

/**
 * Milliseconds one forward pass spends in the reduce steps on `backend`: for every reduce layer of the
 * schedule, the backend's own Pruner and Merger (the contract its block uses) are timed at that layer's exact
 * shapes and counts — saliency, top-k pruning, gathering the kept rows, the image merge and the text merge —
 * on random data of those shapes. Median of `repeats` passes, after two untimed ones.
 */
export async function timeReduceSteps(
  backend: Backend,
  geometry: ModelGeometry,
  config: ReductionConfig,
  batch: number,
  repeats = 15,
): Promise<number> {
  const rand = seededRandom(7);
  const headDim = geometry.hiddenSize / geometry.numHeads;
  const plans = schedule(geometry, config)
    .layers.map((l) => l.plan)
    .filter((p) => p.kind !== 'none');
  // Inputs are built once, outside the timing.
  const cases = plans.map((plan) => {
    const n = plan.textIn + plan.imageIn;
    return {
      plan,
      attn: randomAttention(batch, geometry.numHeads, n, rand),
      kbar: randomTensor([batch, n, headDim], rand),
      qbar: randomTensor([batch, n, headDim], rand),
      x: randomTensor([batch, n, geometry.hiddenSize], rand),
      textMask: floatTensor(new Float32Array(batch * plan.textIn).fill(1), [batch, plan.textIn]),
      textSize: floatTensor(new Float32Array(batch * plan.textIn).fill(1), [batch, plan.textIn, 1]),
      allSize: floatTensor(new Float32Array(batch * n).fill(1), [batch, n, 1]),
    };
  });
  const passes: number[] = [];
  // Two untimed passes first: the reducer code's first calls pay for JIT compilation.
  for (let r = -2; r < repeats; r++) {
    let total = 0;
    for (const c of cases) {
      const start = performance.now();
      if (c.plan.kind === 'pumer') {
        const t = c.plan.textIn;
        const n = t + c.plan.imageIn;
        const scores = await backend.pruner.saliency(config.saliency, {
          attn: c.attn,
          kbar: c.kbar,
          qbar: c.qbar,
          textMask: c.textMask,
        });
        const kept = await backend.pruner.prune(scores, c.plan.keep);
        const imageX = sliceRows(c.x, t, n);
        const imageK = sliceRows(c.kbar, t, n);
        const keptX = gatherRows(imageX, kept.keepIdx.data, c.plan.keep);
        const keptK = gatherRows(imageK, kept.keepIdx.data, c.plan.keep);
        await backend.merger.merge({
          style: config.mergeStyle,
          x: keptX,
          metric: keptK,
          saliency: kept.scores,
          r: c.plan.imageMergeR,
        });
        if (c.plan.textMergeR > 0) {
          await backend.merger.merge({
            style: 'tome',
            x: sliceRows(c.x, 0, t),
            metric: sliceRows(c.kbar, 0, t),
            size: c.textSize,
            r: c.plan.textMergeR,
            protectFirst: true,
          });
        }
      } else if (c.plan.kind === 'tome') {
        await backend.merger.merge({
          style: 'tome',
          x: c.x,
          metric: c.kbar,
          size: c.allSize,
          r: c.plan.tomeR,
          protectFirst: true,
        });
      }
      total += performance.now() - start;
    }
    if (r >= 0) passes.push(total);
  }
  return median(passes);
}
