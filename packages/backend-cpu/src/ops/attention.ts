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
  /** Output after the projection [B, Nq, D]. */
  readonly out: Float64Array;
  /** Attention probabilities [B, H, Nq, Nk] (self-attention: Nq = Nk = N). */
  readonly probs: Float64Array;
  /** Keys averaged over heads [B, Nk, headDim]. */
  readonly kbar: Float64Array;
  /** Queries averaged over heads [B, Nq, headDim]. */
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
 * How one row of scaled scores becomes probabilities: `s` holds the n scores of query row `i`, `mask` the keys'
 * mask from `maskOffset` (null: no mask), written into `p` from `pOffset`.
 */
export type RowSoftmax = (
  s: Floats,
  mask: Floats | null,
  maskOffset: number,
  i: number,
  n: number,
  p: Float64Array,
  pOffset: number,
) => void;

/** The plain softmax over all n keys (the mask is not read): CLIP's unmasked attention. */
export function plainSoftmaxRow(
  s: Floats,
  _mask: Floats | null,
  _maskOffset: number,
  _i: number,
  n: number,
  p: Float64Array,
  pOffset = 0,
): void {
  let max = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < n; j++) if (s[j]! > max) max = s[j]!;
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const e = Math.exp(s[j]! - max);
    p[pOffset + j] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let j = 0; j < n; j++) p[pOffset + j] = p[pOffset + j]! * inv;
}

/** The most negative float32, the additive mask value of Hugging Face's BERT/RoBERTa (torch.finfo(float32).min). */
export const FLOAT32_MIN = -3.4028234663852886e38;

/**
 * BERT's masked softmax: each score plus (1 - m_j)·float32_min, then the plain softmax. A masked key keeps a
 * score near float32_min, so its probability is 0 unless every key of the row is masked.
 */
export function additiveMaskRow(
  s: Floats,
  mask: Floats | null,
  maskOffset: number,
  _i: number,
  n: number,
  p: Float64Array,
  pOffset = 0,
): void {
  let max = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < n; j++) {
    const v = s[j]! + (1 - mask![maskOffset + j]!) * FLOAT32_MIN;
    p[pOffset + j] = v;
    if (v > max) max = v;
  }
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const e = Math.exp(p[pOffset + j]! - max);
    p[pOffset + j] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let j = 0; j < n; j++) p[pOffset + j] = p[pOffset + j]! * inv;
}

/** The soft-mask softmax as a `RowSoftmax` (its mask is required). */
export const softMaskSoftmax: RowSoftmax = (s, mask, maskOffset, i, n, p, pOffset) =>
  softMaskRow(s, mask!, maskOffset, i, n, p, pOffset);

/** The two token streams of one attention call: queries from `q` rows, keys and values from `kv` rows. */
export interface AttentionStreams {
  readonly B: number;
  readonly D: number;
  readonly numHeads: number;
  /** Query source, already normalised [B, Nq, D]. */
  readonly q: Floats;
  readonly Nq: number;
  /** Key/value source [B, Nk, D] (the same array as `q` for self-attention). */
  readonly kv: Floats;
  readonly Nk: number;
  /** Key mask [B, Nk] (read by the softmax; null for an unmasked one). */
  readonly mask: Floats | null;
}

/**
 * Multi-head attention of `q` rows over `kv` rows (self-attention when they are the same stream), with the
 * row softmax the caller chooses (the soft mask by default). Scores are (q·k)/√headDim; heads are contiguous
 * slices of D (PyTorch's reshape order). The soft mask's diagonal rule reads the query's index i against the
 * key's index j, also across streams (docs/meter.md, "The soft mask across streams").
 * Returns the projected output [B, Nq, D], the probabilities [B, H, Nq, Nk], the keys averaged over heads
 * [B, Nk, headDim] and the queries averaged over heads [B, Nq, headDim].
 */
export function attentionArrays(
  st: AttentionStreams,
  w: AttentionWeights,
  softmax: RowSoftmax = softMaskSoftmax,
): AttentionArrays {
  const { B, D, numHeads, Nq, Nk, mask } = st;
  const hd = D / numHeads;
  const qRows = B * Nq;
  const kRows = B * Nk;
  const q = linearRows(st.q, qRows, D, w.query);
  const k = linearRows(st.kv, kRows, D, w.key);
  const v = linearRows(st.kv, kRows, D, w.value);
  const probs = new Float64Array(B * numHeads * Nq * Nk);
  const ctx = new Float64Array(qRows * D);
  // Per (example, head) scratch: queries and keys as contiguous [N, headDim] rows, values transposed to
  // [headDim, Nk], so every inner loop is a dot product over contiguous memory. Both products are blocked
  // by four (four keys per query, four output features per row) to reuse each load.
  const qh = new Float64Array(Nq * hd);
  const kh = new Float64Array(Nk * hd);
  const vt = new Float64Array(hd * Nk);
  const scores = new Float64Array(Nk);
  const scale = 1 / Math.sqrt(hd);
  const n4 = Nk - (Nk % 4);
  const hd4 = hd - (hd % 4);
  for (let b = 0; b < B; b++) {
    const qBase = b * Nq;
    const kBase = b * Nk;
    for (let head = 0; head < numHeads; head++) {
      const ho = head * hd;
      for (let i = 0; i < Nq; i++) {
        const src = (qBase + i) * D + ho;
        for (let d = 0; d < hd; d++) qh[i * hd + d] = q[src + d]!;
      }
      for (let j = 0; j < Nk; j++) {
        const src = (kBase + j) * D + ho;
        for (let d = 0; d < hd; d++) {
          kh[j * hd + d] = k[src + d]!;
          vt[d * Nk + j] = v[src + d]!;
        }
      }
      for (let i = 0; i < Nq; i++) {
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
        for (; j < Nk; j++) {
          const ko = j * hd;
          let acc = 0;
          for (let d = 0; d < hd; d++) acc += qh[qo + d]! * kh[ko + d]!;
          scores[j] = acc * scale;
        }
        const po = ((b * numHeads + head) * Nq + i) * Nk;
        softmax(scores, mask, kBase, i, Nk, probs, po);
        const co = (qBase + i) * D + ho;
        let d = 0;
        for (; d < hd4; d += 4) {
          const v0 = d * Nk;
          const v1 = v0 + Nk;
          const v2 = v1 + Nk;
          const v3 = v2 + Nk;
          let a0 = 0;
          let a1 = 0;
          let a2 = 0;
          let a3 = 0;
          for (let jj = 0; jj < Nk; jj++) {
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
          const vo = d * Nk;
          let acc = 0;
          for (let jj = 0; jj < Nk; jj++) acc += probs[po + jj]! * vt[vo + jj]!;
          ctx[co + d] = acc;
        }
      }
    }
  }
  const out = linearRows(ctx, qRows, D, w.proj);
  return { out, probs, kbar: headMean(k, kRows, D, numHeads), qbar: headMean(q, qRows, D, numHeads) };
}

/** Rows [rows, D] of head-major features averaged over the heads: [rows, D / numHeads]. */
function headMean(x: Float64Array, rows: number, D: number, numHeads: number): Float64Array {
  const hd = D / numHeads;
  const out = new Float64Array(rows * hd);
  for (let r = 0; r < rows; r++) {
    for (let head = 0; head < numHeads; head++) {
      const src = r * D + head * hd;
      for (let d = 0; d < hd; d++) out[r * hd + d] += x[src + d]!;
    }
    for (let d = 0; d < hd; d++) out[r * hd + d] /= numHeads;
  }
  return out;
}

/**
 * Multi-head self-attention with the soft mask, on `h` = the already-normalised input [B, N, D] in float32 or
 * float64 (ViLT's blocks).
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
  return attentionArrays({ B, D, numHeads, q: h, Nq: N, kv: h, Nk: N, mask }, w);
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
