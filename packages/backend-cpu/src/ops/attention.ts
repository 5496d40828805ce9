import {
  expectFinite,
  expectShape,
  type FloatTensor,
  type LinearWeights,
  PumerError,
  SOFT_MASK_EPS,
} from '@pumer/core';
import { type Floats, toFloatTensor } from './arrays.js';
import { expectLinear, linearRows } from './linear.js';

export interface AttentionWeights {
  readonly query: LinearWeights;
  readonly key: LinearWeights;
  readonly value: LinearWeights;
  readonly proj: LinearWeights;
}

/** Float64 results of one attention call, row-major. */
export interface AttentionArrays {
  /** Output after the projection [B, N, D]. */
  readonly out: Float64Array;
  /** Attention probabilities [B, H, N, N]. */
  readonly probs: Float64Array;
  /** Keys averaged over heads [B, N, headDim]. */
  readonly kbar: Float64Array;
  /** Queries averaged over heads [B, N, headDim]. */
  readonly qbar: Float64Array;
}

/**
 * PuMer's soft-mask softmax of one row of scores `s` (length N) for query row `i`, written into `p`:
 * e_j = exp(s_j - max s) · mhat_j with mhat_j = m_j + (1 - m_j)·[i == j] (a row always sees itself), then
 * p_j = (e_j + eps/N) / (Σ e + eps). With 0/1 masks this is masked softmax up to eps; fractional masks
 * (after text merging) weight the keys, which is what PuMer-fine-tuned checkpoints expect.
 */
export function softMaskRow(
  s: Floats,
  mask: Floats,
  maskOffset: number,
  i: number,
  n: number,
  p: Float64Array,
  pOffset = 0,
): void {
  let max = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < n; j++) if (s[j]! > max) max = s[j]!;
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const m = mask[maskOffset + j]!;
    const mhat = j === i ? 1 : m; // m + (1 - m)·1 = 1 on the diagonal
    const e = Math.exp(s[j]! - max) * mhat;
    p[pOffset + j] = e;
    sum += e;
  }
  const floor = SOFT_MASK_EPS / n;
  const inv = 1 / (sum + SOFT_MASK_EPS);
  for (let j = 0; j < n; j++) p[pOffset + j] = (p[pOffset + j]! + floor) * inv;
}

/**
 * Multi-head self-attention with the soft mask, on `h` = the already-normalised input [B, N, D] in float32 or
 * float64. Scores are (q·k)/√headDim; heads are contiguous slices of D (PyTorch's reshape order).
 */
export function softMaskAttentionArrays(
  h: Floats,
  B: number,
  N: number,
  D: number,
  numHeads: number,
  w: AttentionWeights,
  mask: Floats,
): AttentionArrays {
  const hd = D / numHeads;
  const rows = B * N;
  const q = linearRows(h, rows, D, w.query);
  const k = linearRows(h, rows, D, w.key);
  const v = linearRows(h, rows, D, w.value);
  const probs = new Float64Array(B * numHeads * N * N);
  const ctx = new Float64Array(rows * D);
  // Per (example, head) scratch: queries and keys as contiguous [N, headDim] rows, values transposed to
  // [headDim, N], so every inner loop is a dot product over contiguous memory. Both products are blocked
  // by four (four keys per query, four output features per row) to reuse each load.
  const qh = new Float64Array(N * hd);
  const kh = new Float64Array(N * hd);
  const vt = new Float64Array(hd * N);
  const scores = new Float64Array(N);
  const scale = 1 / Math.sqrt(hd);
  const n4 = N - (N % 4);
  const hd4 = hd - (hd % 4);
  for (let b = 0; b < B; b++) {
    const base = b * N;
    for (let head = 0; head < numHeads; head++) {
      const ho = head * hd;
      for (let j = 0; j < N; j++) {
        const src = (base + j) * D + ho;
        for (let d = 0; d < hd; d++) {
          qh[j * hd + d] = q[src + d]!;
          kh[j * hd + d] = k[src + d]!;
          vt[d * N + j] = v[src + d]!;
        }
      }
      for (let i = 0; i < N; i++) {
        const qo = i * hd;
        let j = 0;
        for (; j < n4; j += 4) {
          const k0 = j * hd;
          const k1 = k0 + hd;
          const k2 = k1 + hd;
          const k3 = k2 + hd;
          let s0 = 0;
          let s1 = 0;
          let s2 = 0;
          let s3 = 0;
          for (let d = 0; d < hd; d++) {
            const qd = qh[qo + d]!;
            s0 += qd * kh[k0 + d]!;
            s1 += qd * kh[k1 + d]!;
            s2 += qd * kh[k2 + d]!;
            s3 += qd * kh[k3 + d]!;
          }
          scores[j] = s0 * scale;
          scores[j + 1] = s1 * scale;
          scores[j + 2] = s2 * scale;
          scores[j + 3] = s3 * scale;
        }
        for (; j < N; j++) {
          const ko = j * hd;
          let acc = 0;
          for (let d = 0; d < hd; d++) acc += qh[qo + d]! * kh[ko + d]!;
          scores[j] = acc * scale;
        }
        const po = ((b * numHeads + head) * N + i) * N;
        softMaskRow(scores, mask, base, i, N, probs, po);
        const co = (base + i) * D + ho;
        let d = 0;
        for (; d < hd4; d += 4) {
          const v0 = d * N;
          const v1 = v0 + N;
          const v2 = v1 + N;
          const v3 = v2 + N;
          let a0 = 0;
          let a1 = 0;
          let a2 = 0;
          let a3 = 0;
          for (let jj = 0; jj < N; jj++) {
            const p = probs[po + jj]!;
            a0 += p * vt[v0 + jj]!;
            a1 += p * vt[v1 + jj]!;
            a2 += p * vt[v2 + jj]!;
            a3 += p * vt[v3 + jj]!;
          }
          ctx[co + d] = a0;
          ctx[co + d + 1] = a1;
          ctx[co + d + 2] = a2;
          ctx[co + d + 3] = a3;
        }
        for (; d < hd; d++) {
          const vo = d * N;
          let acc = 0;
          for (let jj = 0; jj < N; jj++) acc += probs[po + jj]! * vt[vo + jj]!;
          ctx[co + d] = acc;
        }
      }
    }
  }
  const kbar = new Float64Array(rows * hd);
  const qbar = new Float64Array(rows * hd);
  for (let r = 0; r < rows; r++) {
    for (let head = 0; head < numHeads; head++) {
      const src = r * D + head * hd;
      for (let d = 0; d < hd; d++) {
        kbar[r * hd + d] += k[src + d]!;
        qbar[r * hd + d] += q[src + d]!;
      }
    }
    for (let d = 0; d < hd; d++) {
      kbar[r * hd + d] /= numHeads;
      qbar[r * hd + d] /= numHeads;
    }
  }
  const out = linearRows(ctx, rows, D, w.proj);
  return { out, probs, kbar, qbar };
}

/** Checks attention weights for width D and `numHeads` heads. */
export function expectAttentionWeights(w: AttentionWeights, D: number, numHeads: number, prefix = ''): void {
  if (!Number.isInteger(numHeads) || numHeads < 1) {
    throw new PumerError('VALUE', `numHeads must be a positive integer, got ${String(numHeads)}`);
  }
  if (D % numHeads !== 0)
    throw new PumerError('VALUE', `hidden size ${D} is not divisible by numHeads ${numHeads}`);
  expectLinear(`${prefix}query`, w.query, D, D);
  expectLinear(`${prefix}key`, w.key, D, D);
  expectLinear(`${prefix}value`, w.value, D, D);
  expectLinear(`${prefix}proj`, w.proj, D, D);
}

export interface AttentionResult {
  readonly out: FloatTensor;
  readonly probs: FloatTensor;
  readonly kbar: FloatTensor;
  readonly qbar: FloatTensor;
}

/** Soft-mask multi-head attention on float32 tensors: `x` [B, N, D] (already normalised), `mask` [B, N]. */
export function softMaskAttention(
  x: FloatTensor,
  w: AttentionWeights,
  numHeads: number,
  mask: FloatTensor,
): AttentionResult {
  expectShape('x', x, [null, null, null]);
  const [B, N, D] = x.shape as [number, number, number];
  expectShape('mask', mask, [B, N]);
  expectFinite('x', x);
  expectFinite('mask', mask);
  expectAttentionWeights(w, D, numHeads);
  const a = softMaskAttentionArrays(x.data, B, N, D, numHeads, w, mask.data);
  const hd = D / numHeads;
  return {
    out: toFloatTensor(a.out, [B, N, D]),
    probs: toFloatTensor(a.probs, [B, numHeads, N, N]),
    kbar: toFloatTensor(a.kbar, [B, N, hd]),
    qbar: toFloatTensor(a.qbar, [B, N, hd]),
  };
}
