import { type FloatTensor, intTensor, type MergeResult, mergeLimit } from '@pumer/core';
import { type Floats, toFloatTensor } from '../ops/arrays.js';
import { argsortAscending, argsortDescending } from '../prune.js';

/**
 * Bipartite merging, written as a destination map: `dst[b*n + i]` is the output row of input row i. Set A is
 * the even positions, set B the odd ones. The output is the unmerged A rows (in an order the style defines)
 * followed by every B row; a merged A row lands on its partner B row. With r = 0 nothing moves (identity),
 * as the reference returns its input unchanged.
 */
export interface DstMap {
  readonly dst: Int32Array;
  /** Rows per example after merging: n - r. */
  readonly nOut: number;
  readonly r: number;
}

export function identityDst(B: number, n: number): DstMap {
  const dst = new Int32Array(B * n);
  for (let b = 0; b < B; b++) for (let i = 0; i < n; i++) dst[b * n + i] = i;
  return { dst, nOut: n, r: 0 };
}

/** `metric` rows (optionally scaled by `scale[row]`) divided by their L2 norm; a zero row stays zero. */
export function normalizedRows(metric: Floats, rows: number, C: number, scale?: Floats): Float64Array {
  const out = new Float64Array(rows * C);
  for (let r = 0; r < rows; r++) {
    const s = scale === undefined ? 1 : scale[r]!;
    let norm = 0;
    for (let c = 0; c < C; c++) {
      const v = metric[r * C + c]! * s;
      out[r * C + c] = v;
      norm += v * v;
    }
    norm = Math.sqrt(norm);
    if (norm > 0) for (let c = 0; c < C; c++) out[r * C + c] /= norm;
  }
  return out;
}

/**
 * Writes the destinations of one example given A's ranking: the first r ranked A rows merge into their
 * `partner`, the rest stay, in ranked order or (resort) by position.
 */
function fillDst(
  dst: Int32Array,
  o: number,
  n: number,
  ranked: Int32Array,
  partner: Int32Array,
  r: number,
  resort: boolean,
): void {
  const na = Math.ceil(n / 2);
  const nb = Math.floor(n / 2);
  const kept = ranked.slice(r);
  if (resort) kept.sort();
  for (let p = 0; p < kept.length; p++) dst[o + 2 * kept[p]!] = p;
  const bBase = na - r;
  for (let j = 0; j < nb; j++) dst[o + 2 * j + 1] = bBase + j;
  for (let k = 0; k < r; k++) {
    const a = ranked[k]!;
    dst[o + 2 * a] = bBase + partner[a]!;
  }
}

/**
 * Cosine-similarity matching (ToMe / PuMer tip): `unit` holds L2-normalised rows [B, n, C]. Each A row picks
 * the B row with the highest similarity (ties: lower index); with `protectFirst` A's row 0 scores -inf and is
 * never merged. The r A rows with the highest best-score merge. `resort` re-sorts the unmerged A rows by
 * position (ToMe's class_token); otherwise they stay in descending-score order.
 */
export function similarityDst(
  unit: Float64Array,
  B: number,
  n: number,
  C: number,
  r: number,
  protectFirst: boolean,
  resort: boolean,
): DstMap {
  r = Math.min(r, mergeLimit(n, protectFirst)); // never the protected row, never more A rows than exist
  if (r <= 0) return identityDst(B, n);
  const na = Math.ceil(n / 2);
  const nb = Math.floor(n / 2);
  const dst = new Int32Array(B * n);
  const best = new Float64Array(na);
  const partner = new Int32Array(na);
  for (let b = 0; b < B; b++) {
    const o = b * n;
    for (let a = 0; a < na; a++) {
      partner[a] = 0;
      if (protectFirst && a === 0) {
        best[a] = Number.NEGATIVE_INFINITY;
        continue;
      }
      const ao = (o + 2 * a) * C;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < nb; j++) {
        const bo = (o + 2 * j + 1) * C;
        let s = 0;
        for (let c = 0; c < C; c++) s += unit[ao + c]! * unit[bo + c]!;
        if (s > bestScore) {
          bestScore = s;
          partner[a] = j;
        }
      }
      best[a] = bestScore;
    }
    fillDst(dst, o, n, argsortDescending(best, 0, na), partner, r, resort);
  }
  return { dst, nOut: n - r, r };
}

/**
 * PuMer's `diff` matching on saliency [B, n]: each A row picks the B row with the smallest |s_a - s_b| (ties:
 * lower index); the r smallest differences merge; no protected row; unmerged A rows keep ascending order.
 */
export function saliencyDiffDst(saliency: Floats, B: number, n: number, r: number): DstMap {
  r = Math.min(r, mergeLimit(n, false));
  if (r <= 0) return identityDst(B, n);
  const na = Math.ceil(n / 2);
  const nb = Math.floor(n / 2);
  const dst = new Int32Array(B * n);
  const best = new Float64Array(na);
  const partner = new Int32Array(na);
  for (let b = 0; b < B; b++) {
    const o = b * n;
    for (let a = 0; a < na; a++) {
      const sa = saliency[o + 2 * a]!;
      let bestDiff = Number.POSITIVE_INFINITY;
      partner[a] = 0;
      for (let j = 0; j < nb; j++) {
        const d = Math.abs(sa - saliency[o + 2 * j + 1]!);
        if (d < bestDiff) {
          bestDiff = d;
          partner[a] = j;
        }
      }
      best[a] = bestDiff;
    }
    fillDst(dst, o, n, argsortAscending(best, 0, na), partner, r, false);
  }
  return { dst, nOut: n - r, r };
}

/** Rows sharing a destination are added (the reference's scatter_reduce "sum"). Returns [B, nOut, D]. */
export function sumByDst(x: Floats, B: number, n: number, D: number, map: DstMap): Float64Array {
  const { dst, nOut } = map;
  const out = new Float64Array(B * nOut * D);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < n; i++) {
      const src = (b * n + i) * D;
      const to = (b * nOut + dst[b * n + i]!) * D;
      for (let d = 0; d < D; d++) out[to + d] += x[src + d]!;
    }
  }
  return out;
}

/**
 * ToMe's size-weighted average (merge_wavg): out = Σ x·size / Σ size over rows sharing a destination, and
 * the summed sizes. `size` [B, n] defaults to ones.
 */
export function weightedAverageByDst(
  x: Floats,
  size: Floats | null,
  B: number,
  n: number,
  D: number,
  map: DstMap,
): { x: Float64Array; size: Float64Array } {
  const { dst, nOut } = map;
  const out = new Float64Array(B * nOut * D);
  const outSize = new Float64Array(B * nOut);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < n; i++) {
      const w = size === null ? 1 : size[b * n + i]!;
      const row = b * nOut + dst[b * n + i]!;
      outSize[row] += w;
      const src = (b * n + i) * D;
      const to = row * D;
      for (let d = 0; d < D; d++) out[to + d] += x[src + d]! * w;
    }
  }
  for (let row = 0; row < B * nOut; row++) {
    const w = outSize[row]!;
    for (let d = 0; d < D; d++) out[row * D + d] /= w;
  }
  return { x: out, size: outSize };
}

/** The result of a sum merge (tip, diff): states [B, n, D] added into their destination rows. */
export function sumMergeResult(x: FloatTensor, map: DstMap): MergeResult {
  const [B, n, D] = x.shape as [number, number, number];
  const merged = map.r === 0 ? x.data.slice() : sumByDst(x.data, B, n, D, map);
  return {
    x: toFloatTensor(merged, [B, map.nOut, D]),
    size: null,
    dst: intTensor(map.dst, [B, n]),
    r: map.r,
  };
}
