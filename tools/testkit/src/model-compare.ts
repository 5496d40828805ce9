import type { FloatTensor, IntTensor, LayerTrace, ViltOutputs } from '@pumer/core';

/**
 * Whole-model parity: a run on a backend under test against a reference run — logits within a tolerance
 * and every trace index identical (which tokens were kept, where each merged).
 */

/** Largest |a - b| (Infinity when the shapes differ; NaN propagates, so it fails every bound). */
export function maxAbsDiff(a: FloatTensor, b: FloatTensor): number {
  if (a.shape.join() !== b.shape.join()) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i]! - b.data[i]!);
    if (!(d <= m)) m = d; // NaN propagates as a failure
  }
  return m;
}

/** The trace tensors that say which tokens were kept and where each merged. */
export const TRACE_INDICES = ['keepIdx', 'imageDst', 'textDst', 'tokenDst'] as const;

function firstIndexDifference(
  name: string,
  a: IntTensor | undefined,
  b: IntTensor | undefined,
): string | null {
  if (!a && !b) return null;
  if (!a || !b)
    return `${name} is ${a ? 'present' : 'missing'} on the backend, ${b ? 'present' : 'missing'} on the reference`;
  if (a.shape.join() !== b.shape.join())
    return `${name} has shape [${a.shape.join(', ')}], reference [${b.shape.join(', ')}]`;
  for (let i = 0; i < a.data.length; i++) {
    if (a.data[i] !== b.data[i])
      return `${name} differs at flat index ${i}: ${a.data[i]} vs reference ${b.data[i]}`;
  }
  return null;
}

/** The first way two traces disagree (counts, kinds, indices), or null. */
export function compareTraces(got: readonly LayerTrace[], want: readonly LayerTrace[]): string | null {
  if (got.length !== want.length) return `${got.length} layer traces, reference has ${want.length}`;
  for (let l = 0; l < got.length; l++) {
    const g = got[l]!;
    const w = want[l]!;
    for (const k of ['layer', 'kind', 'textIn', 'imageIn', 'textOut', 'imageOut'] as const) {
      if (g[k] !== w[k]) return `layer ${l}: ${k} ${String(g[k])} vs reference ${String(w[k])}`;
    }
    for (const k of TRACE_INDICES) {
      const diff = firstIndexDifference(k, g[k], w[k]);
      if (diff) return `layer ${l}: ${diff}`;
    }
  }
  return null;
}

/** Compares one run with the reference; returns the failure reason or null. */
export function compareOutputs(
  got: ViltOutputs,
  want: ViltOutputs,
  tolerance: number,
): { maxAbs: number; reason: string | null } {
  if (got.logits.shape.join() !== want.logits.shape.join()) {
    return {
      maxAbs: Number.NaN,
      reason: `logits shape [${got.logits.shape.join(', ')}], reference [${want.logits.shape.join(', ')}]`,
    };
  }
  const maxAbs = maxAbsDiff(got.logits, want.logits);
  if (!(maxAbs <= tolerance))
    return { maxAbs, reason: `max |logit diff| ${maxAbs.toExponential(2)} > ${tolerance}` };
  return { maxAbs, reason: compareTraces(got.layers, want.layers) };
}
