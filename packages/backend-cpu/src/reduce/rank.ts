import type { Floats } from '../ops/arrays.js';

/**
 * Stable rank of each of the n entries `v[offset..offset+n)`: how many entries come before it when sorted
 * descending (or ascending), ties lower index first — the order torch.topk gives and the twin of
 * @pumer/onnx's `stableRank`. `rank[i] = k` means entry i is the k-th.
 */
export function stableRank(v: Floats, offset: number, n: number, descending: boolean): Int32Array {
  const order = Array.from({ length: n }, (_, i) => i);
  const sign = descending ? -1 : 1;
  order.sort((a, b) => {
    const va = v[offset + a]!;
    const vb = v[offset + b]!;
    if (va < vb) return -sign;
    if (va > vb) return sign;
    return a - b;
  });
  const rank = new Int32Array(n);
  for (let k = 0; k < n; k++) rank[order[k]!] = k;
  return rank;
}
