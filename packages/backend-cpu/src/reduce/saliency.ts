import type { SaliencyRule } from '@pumer/core';
import type { Floats } from '../ops/arrays.js';

/** What `saliencyScores` reads, as flat arrays with their sizes (which arrays: the rule's `source`). */
export interface SaliencySources {
  readonly B: number;
  /** Tokens, text first. */
  readonly N: number;
  /** Text tokens. */
  readonly T: number;
  /** Text mask [B, T], possibly fractional; its row sums divide the scores. */
  readonly textMask: Floats;
  /**
   * Attention probabilities (source `attention`): ViLT's joint block [B, H, N, N] (the default layout), or
   * METER's text-to-image cross-attention [B, H, T, N - T] (`attnLayout` 'text-to-image').
   */
  readonly attn?: Floats;
  readonly attnLayout?: 'joint' | 'text-to-image';
  readonly numHeads?: number;
  /** Keys / queries averaged over heads [B, N, headDim] (source `keys`; queries when textSide is `queries`). */
  readonly kbar?: Floats;
  readonly qbar?: Floats;
  readonly headDim?: number;
}

/**
 * Text saliency of each of the I = N - T image tokens, [B, I] (docs/reducers.md, "Text saliency"): summed over
 * ALL T text rows (padding included, as the reference does), divided by the text mask's row sum. What is read
 * and how is the rule's: attention rows of head 0 or the mean over heads, or the text side (keys or queries)
 * dotted with the image keys. METER's reduce step reads its text layer's cross-attention block with
 * `mean_head` (docs/meter.md, "Where PuMer acts"). The caller has checked the inputs (core's checkSaliencyArgs).
 */
export function saliencyScores(rule: SaliencyRule, src: SaliencySources): Float64Array {
  const { B, N, T } = src;
  const I = N - T;
  const out = new Float64Array(B * I);
  const tLen = new Float64Array(B);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) tLen[b] += src.textMask[b * T + t]!;
  if (rule.source === 'attention') {
    const attn = src.attn!;
    const H = src.numHeads!;
    const heads = rule.heads === 'first' ? 1 : H;
    // Text row i's image columns: from column T of an N-wide row (joint), or a whole I-wide row (cross).
    const cross = src.attnLayout === 'text-to-image';
    const rowsPerHead = cross ? T : N;
    const width = cross ? I : N;
    const firstImageColumn = cross ? 0 : T;
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < heads; h++) {
        for (let i = 0; i < T; i++) {
          const row = ((b * H + h) * rowsPerHead + i) * width + firstImageColumn;
          for (let j = 0; j < I; j++) out[b * I + j] += attn[row + j]!;
        }
      }
      const div = heads * tLen[b]!; // mean over heads, then / tLen
      for (let j = 0; j < I; j++) out[b * I + j] /= div;
    }
    return out;
  }
  // Σ_i side_i·Kbar_j = (Σ_i side_i)·Kbar_j, the text side being the keys or the queries.
  const kbar = src.kbar!;
  const textSide = rule.textSide === 'queries' ? src.qbar! : kbar;
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
