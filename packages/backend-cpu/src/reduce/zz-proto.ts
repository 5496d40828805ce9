import {
  intTensor,
  type LayerPlan,
  type LayerTrace,
  layerMergeDecision,
  MERGE_STYLE_RULES,
  mergeStyleRule,
  type ReductionConfig,
  saliencyRule,
} from '@pumer/core';
import type { AttentionArrays } from '../ops/attention.js';
import { toFloatTensor } from '../ops/arrays.js';
import { bipartiteDst, type DstMap } from './bipartite.js';
import { mergeRows, normalizedRows } from './merge.js';
import { selectTop } from './prune.js';
import { saliencyScores } from './saliency.js';

// EXPERIMENT FLAGS (temporary)
let FLAGS = new Set<string>();

export interface TfTokens {
  readonly B: number;
  readonly D: number;
  readonly numHeads: number;
  readonly x: Float64Array;
  readonly mask: Float64Array;
}

function slice(x: Float64Array, B: number, N: number, C: number, from: number, count: number): Float64Array {
  const out = new Float64Array(B * count * C);
  for (let b = 0; b < B; b++)
    out.set(x.subarray((b * N + from) * C, (b * N + from + count) * C), b * count * C);
  return out;
}

function gather(
  x: Float64Array,
  B: number,
  N: number,
  C: number,
  offset: number,
  idx: Int32Array,
  K: number,
): Float64Array {
  const out = new Float64Array(B * K * C);
  for (let b = 0; b < B; b++)
    for (let k = 0; k < K; k++) {
      const src = (b * N + offset + idx[b * K + k]!) * C;
      out.set(x.subarray(src, src + C), (b * K + k) * C);
    }
  return out;
}

const W_EPS = 1e-6;

export function trainingFreeReduce(
  plan: Extract<LayerPlan, { kind: 'pumer' }>,
  cfg: ReductionConfig,
  layer: number,
  tokens: TfTokens,
  attn: AttentionArrays,
): { x: Float64Array; mask: Float64Array; textLen: number; n: number; trace: LayerTrace } {
  FLAGS = new Set((process.env.PUMER_TF ?? 'wavg,size,recycle').split(','));
  const { B, D, numHeads, x, mask } = tokens;
  const hd = D / numHeads;
  const T = plan.textIn;
  const I = plan.imageIn;
  const N = T + I;
  const textMask = slice(mask, B, N, 1, 0, T);
  const sal = saliencyScores(saliencyRule(cfg.saliency), {
    B,
    N,
    T,
    textMask,
    attn: attn.probs,
    numHeads,
    kbar: attn.kbar,
    qbar: attn.qbar,
    headDim: hd,
  });
  const { keep } = plan;
  const top = selectTop(sal, B, I, keep);
  const imgSize = slice(mask, B, N, 1, T, I);
  let xi: Float64Array;
  let si: Float64Array;
  let mi: Float64Array;
  const kbarImg = slice(attn.kbar, B, N, hd, T, I);
  if (FLAGS.has('recycle')) {
    // every pruned token goes to its most similar kept token
    const unit = normalizedRows(kbarImg, B * I, hd);
    const dst = new Int32Array(B * I);
    for (let b = 0; b < B; b++) {
      const pos = new Int32Array(I).fill(-1);
      for (let k = 0; k < keep; k++) pos[top.idx[b * keep + k]!] = k;
      for (let i = 0; i < I; i++) {
        if (pos[i]! >= 0) {
          dst[b * I + i] = pos[i]!;
          continue;
        }
        let best = -Infinity;
        let arg = 0;
        const start = FLAGS.has('recycle-no-cls') ? 1 : 0;
        for (let k = start; k < keep; k++) {
          const j = top.idx[b * keep + k]!;
          let s = 0;
          for (let c = 0; c < hd; c++) s += unit[(b * I + i) * hd + c]! * unit[(b * I + j) * hd + c]!;
          if (s > best) {
            best = s;
            arg = k;
          }
        }
        dst[b * I + i] = arg;
      }
    }
    const map: DstMap = { dst, nOut: keep, r: I - keep };
    const r = mergeRows(x.subarray(0), B, I, D, map, 'size-weighted-mean', imgSize);
    // need image x slice
    const xImg = slice(x, B, N, D, T, I);
    const rr = mergeRows(xImg, B, I, D, map, 'size-weighted-mean', imgSize);
    void r;
    xi = rr.x;
    si = rr.size!;
    mi = gather(kbarImg, B, I, hd, 0, top.idx, keep);
  } else {
    xi = gather(x, B, N, D, T, top.idx, keep);
    si = gather(imgSize, B, I, 1, 0, top.idx, keep);
    mi = gather(kbarImg, B, I, hd, 0, top.idx, keep);
  }
  // image merge
  const rule = mergeStyleRule(cfg.mergeStyle);
  const how = layerMergeDecision(rule, plan.imageMergeR);
  let imageX: Float64Array;
  let imageS: Float64Array;
  let imageDst: Int32Array;
  if (how.r === 0) {
    imageX = xi;
    imageS = si;
    imageDst = new Int32Array(B * keep).map((_, i) => i % keep);
  } else {
    const score =
      rule.match === 'saliency-gap'
        ? ({ match: 'saliency-gap', saliency: top.values } as const)
        : ({
            match: 'cosine',
            unit: normalizedRows(
              mi,
              B * keep,
              hd,
              rule.scaleMetricBySaliency && !FLAGS.has('noscale') ? top.values : null,
            ),
            C: hd,
          } as const);
    const map = bipartiteDst({
      B,
      n: keep,
      r: how.r,
      protectFirst: how.protectFirst,
      unmergedOrder: how.unmergedOrder,
      score,
    });
    const combine = FLAGS.has('wavg') ? 'size-weighted-mean' : rule.combine;
    const m = mergeRows(xi, B, keep, D, map, combine, si);
    imageX = m.x;
    imageS = mergeRows(si, B, keep, 1, map, 'sum').x;
    imageDst = map.dst;
  }
  if (!FLAGS.has('size')) imageS = new Float64Array(imageS.length).fill(1);
  // text merge
  const textHow = layerMergeDecision(MERGE_STYLE_RULES.tome, plan.textMergeR);
  let textX: Float64Array;
  let textM: Float64Array;
  let textDst: Int32Array;
  const xt = slice(x, B, N, D, 0, T);
  if (textHow.r === 0) {
    textX = xt;
    textM = textMask;
    textDst = new Int32Array(B * T).map((_, i) => i % T);
  } else {
    const map = bipartiteDst({
      B,
      n: T,
      r: textHow.r,
      protectFirst: textHow.protectFirst,
      unmergedOrder: textHow.unmergedOrder,
      score: { match: 'cosine', unit: normalizedRows(slice(attn.kbar, B, N, hd, 0, T), B * T, hd), C: hd },
    });
    if (FLAGS.has('size')) {
      const w = textMask.map((v) => v + W_EPS);
      textX = mergeRows(xt, B, T, D, map, 'size-weighted-mean', w).x;
      textM = mergeRows(textMask, B, T, 1, map, 'sum').x;
    } else {
      textX = mergeRows(xt, B, T, D, map, 'size-weighted-mean').x;
      textM = mergeRows(textMask, B, T, 1, map, 'size-weighted-mean').x;
    }
    textDst = map.dst;
  }
  const tOut = plan.textOut;
  const iOut = plan.imageOut;
  const nOut = tOut + iOut;
  const outX = new Float64Array(B * nOut * D);
  const outMask = new Float64Array(B * nOut);
  for (let b = 0; b < B; b++) {
    outX.set(textX.subarray(b * tOut * D, (b + 1) * tOut * D), b * nOut * D);
    outX.set(imageX.subarray(b * iOut * D, (b + 1) * iOut * D), (b * nOut + tOut) * D);
    outMask.set(textM.subarray(b * tOut, (b + 1) * tOut), b * nOut);
    outMask.set(imageS.subarray(b * iOut, (b + 1) * iOut), b * nOut + tOut);
  }
  return {
    x: outX,
    mask: outMask,
    textLen: tOut,
    n: nOut,
    trace: {
      layer,
      kind: 'pumer',
      textIn: T,
      imageIn: I,
      textOut: tOut,
      imageOut: iOut,
      imageSaliency: toFloatTensor(sal, [B, I]),
      keepIdx: intTensor(top.idx, [B, keep]),
      imageDst: intTensor(imageDst, [B, keep]),
      textDst: intTensor(textDst, [B, T]),
    },
  };
}
