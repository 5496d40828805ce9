import type { FloatTensor, Saliency, SaliencyInputs } from '@pumer/core';
import { PumerError, SALIENCY_METHODS } from '@pumer/core';
import { type Floats, toFloatTensor } from './ops/arrays.js';
import { expectFloatInput } from './validate.js';

/** Row sums of the text mask [B, T]; they divide every saliency score, so each must be positive. */
export function textLengths(textMask: Floats, B: number, T: number): Float64Array {
  const out = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let t = 0; t < T; t++) s += textMask[b * T + t]!;
    if (!(s > 0))
      throw new PumerError(
        'VALUE',
        `text mask of example ${b} sums to ${s}: saliency needs at least one text token`,
      );
    out[b] = s;
  }
  return out;
}

/** What `saliencyArrays` reads, as flat arrays with their sizes. */
export interface SaliencySources {
  readonly B: number;
  readonly N: number;
  readonly T: number;
  /** Attention probabilities [B, H, N, N] (first_head, mean_head). */
  readonly attn?: Floats;
  readonly numHeads?: number;
  /** Keys / queries averaged over heads [B, N, headDim] (k_metric, qk). */
  readonly kbar?: Floats;
  readonly qbar?: Floats;
  readonly headDim?: number;
}

/**
 * Text saliency of each of the I = N - T image tokens [B, I] (DESIGN.md §1 step 1): summed over ALL T text
 * query rows (padding included, as the reference does), divided by the text mask's row sum `tLen`.
 */
export function saliencyArrays(method: Saliency, src: SaliencySources, tLen: Float64Array): Float64Array {
  const { B, N, T } = src;
  const I = N - T;
  const out = new Float64Array(B * I);
  if (method === 'first_head' || method === 'mean_head') {
    const attn = src.attn!;
    const H = src.numHeads!;
    const heads = method === 'first_head' ? 1 : H;
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < heads; h++) {
        for (let i = 0; i < T; i++) {
          const row = ((b * H + h) * N + i) * N + T;
          for (let j = 0; j < I; j++) out[b * I + j] += attn[row + j]!;
        }
      }
      const div = heads * tLen[b]!; // mean over heads, then / tLen
      for (let j = 0; j < I; j++) out[b * I + j] /= div;
    }
    return out;
  }
  // k_metric: Σ_i Kbar_i·Kbar_j = (Σ_i Kbar_i)·Kbar_j; qk takes the text side from Qbar.
  const kbar = src.kbar!;
  const textSide = method === 'qk' ? src.qbar! : kbar;
  const C = src.headDim!;
  const textSum = new Float64Array(C);
  for (let b = 0; b < B; b++) {
    textSum.fill(0);
    for (let i = 0; i < T; i++) {
      const o = (b * N + i) * C;
      for (let c = 0; c < C; c++) textSum[c] += textSide[o + c]!;
    }
    for (let j = 0; j < I; j++) {
      const o = (b * N + T + j) * C;
      let acc = 0;
      for (let c = 0; c < C; c++) acc += textSum[c]! * kbar[o + c]!;
      out[b * I + j] = acc / tLen[b]!;
    }
  }
  return out;
}

/** The Pruner's saliency on tensors: validates what `method` reads and returns [B, I] in float32. */
export function computeSaliency(method: Saliency, inputs: SaliencyInputs): FloatTensor {
  if (!(SALIENCY_METHODS as readonly string[]).includes(method)) {
    throw new PumerError(
      'VALUE',
      `unknown saliency method ${String(method)} (expected one of ${SALIENCY_METHODS.join(', ')})`,
    );
  }
  expectFloatInput('textMask', inputs.textMask, [null, null]);
  const [B, T] = inputs.textMask.shape as [number, number];
  let N: number;
  let src: SaliencySources;
  if (method === 'first_head' || method === 'mean_head') {
    expectFloatInput(`attn (needed by ${method})`, inputs.attn, [B, null, null, null]);
    const attn = inputs.attn!;
    N = attn.shape[2]!;
    expectFloatInput('attn', attn, [B, null, N, N]);
    src = { B, N, T, attn: attn.data, numHeads: attn.shape[1]! };
  } else {
    expectFloatInput(`kbar (needed by ${method})`, inputs.kbar, [B, null, null]);
    const kbar = inputs.kbar!;
    N = kbar.shape[1]!;
    const C = kbar.shape[2]!;
    if (method === 'qk') expectFloatInput('qbar (needed by qk)', inputs.qbar, [B, N, C]);
    src = { B, N, T, kbar: kbar.data, qbar: inputs.qbar?.data, headDim: C };
  }
  if (!(T >= 1 && T < N)) {
    throw new PumerError(
      'VALUE',
      `text mask covers ${T} tokens of ${N}: need 1 <= T < N (text first, then image tokens)`,
    );
  }
  const tLen = textLengths(inputs.textMask.data, B, T);
  return toFloatTensor(saliencyArrays(method, src, tLen), [B, N - T]);
}
