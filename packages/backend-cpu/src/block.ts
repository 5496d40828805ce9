import {
  type BlockArgs,
  type BlockResult,
  type BlockWeights,
  BackendError,
  intTensor,
  type LayerPlan,
  type LayerTrace,
  PumerError,
  planLayer,
  type ReductionConfig,
  validateReductionConfig,
} from '@pumer/core';
import { type DstMap, identityDst, sumByDst, weightedAverageByDst } from './merge/bipartite.js';
import { diffDst } from './merge/diff.js';
import { tipDst } from './merge/tip.js';
import { tomeDst } from './merge/tome.js';
import { toFloatTensor } from './ops/arrays.js';
import { expectAttentionWeights, softMaskAttentionArrays } from './ops/attention.js';
import { geluInPlace } from './ops/gelu.js';
import { expectLayerNorm, layerNormRows } from './ops/layer-norm.js';
import { expectLinear, linearRows } from './ops/linear.js';
import { topKArrays } from './prune.js';
import { saliencyArrays, textLengths } from './saliency.js';
import { expectFloatInput, expectInteger } from './validate.js';

/** Checks every weight of a block against hidden size D; returns the MLP width. */
export function expectBlockWeights(w: BlockWeights, D: number, numHeads: number): number {
  if (w === null || typeof w !== 'object') throw new PumerError('VALUE', 'block weights are required');
  expectLayerNorm('norm1', w.norm1, D);
  expectAttentionWeights(w, D, numHeads);
  expectLayerNorm('norm2', w.norm2, D);
  const M = expectLinear('fc1', w.fc1, D);
  expectLinear('fc2', w.fc2, M, D);
  return M;
}

/** Rows [from, from+count) of each example of a [B, N, C] array, as [B, count, C]. */
function sliceRows(
  x: Float64Array,
  B: number,
  N: number,
  C: number,
  from: number,
  count: number,
): Float64Array {
  const out = new Float64Array(B * count * C);
  for (let b = 0; b < B; b++)
    out.set(x.subarray((b * N + from) * C, (b * N + from + count) * C), b * count * C);
  return out;
}

/** Rows `offset + idx[b, k]` of each example of a [B, N, C] array, as [B, K, C]. */
function gatherRows(
  x: Float64Array,
  B: number,
  N: number,
  C: number,
  offset: number,
  idx: Int32Array,
  K: number,
): Float64Array {
  const out = new Float64Array(B * K * C);
  for (let b = 0; b < B; b++) {
    for (let k = 0; k < K; k++) {
      const src = (b * N + offset + idx[b * K + k]!) * C;
      out.set(x.subarray(src, src + C), (b * K + k) * C);
    }
  }
  return out;
}

interface Reduced {
  readonly x: Float64Array;
  readonly mask: Float64Array;
  readonly textLen: number;
  readonly n: number;
  readonly trace: LayerTrace;
}

function checkPlan(what: string, map: DstMap, expectedR: number): void {
  if (map.r !== expectedR)
    throw new BackendError(`internal: ${what} merged ${map.r} tokens, the layer plan says ${expectedR}`);
}

/** Steps 1-4 of DESIGN.md §1: prune image tokens, merge the kept ones by style, merge text with ToMe. */
function reducePumer(
  plan: Extract<LayerPlan, { kind: 'pumer' }>,
  config: ReductionConfig,
  layer: number,
  x: Float64Array,
  mask: Float64Array,
  attn: { probs: Float64Array; kbar: Float64Array; qbar: Float64Array },
  B: number,
  D: number,
  numHeads: number,
): Reduced {
  const T = plan.textIn;
  const I = plan.imageIn;
  const N = T + I;
  const hd = D / numHeads;
  const textMask = sliceRows(mask, B, N, 1, 0, T);
  const tLen = textLengths(textMask, B, T);
  const saliency = saliencyArrays(
    config.saliency,
    { B, N, T, attn: attn.probs, numHeads, kbar: attn.kbar, qbar: attn.qbar, headDim: hd },
    tLen,
  );
  const { keep } = plan;
  const top = topKArrays(saliency, B, I, keep);
  const keptX = gatherRows(x, B, N, D, T, top.idx, keep);

  let imageMap: DstMap;
  let imageX: Float64Array;
  if (plan.imageMergeR === 0) {
    imageMap = identityDst(B, keep);
    imageX = keptX;
  } else {
    const keptMetric = gatherRows(attn.kbar, B, N, hd, T, top.idx, keep);
    if (config.mergeStyle === 'tome') {
      imageMap = tomeDst(keptMetric, B, keep, hd, plan.imageMergeR, true);
      imageX = weightedAverageByDst(keptX, null, B, keep, D, imageMap).x;
    } else if (config.mergeStyle === 'tip') {
      imageMap = tipDst(keptMetric, top.values, B, keep, hd, plan.imageMergeR);
      imageX = sumByDst(keptX, B, keep, D, imageMap);
    } else {
      imageMap = diffDst(top.values, B, keep, plan.imageMergeR);
      imageX = sumByDst(keptX, B, keep, D, imageMap);
    }
    checkPlan(`the ${config.mergeStyle} image merge`, imageMap, plan.imageMergeR);
  }

  let textMap: DstMap;
  let textX: Float64Array;
  let newTextMask: Float64Array;
  if (plan.textMergeR === 0) {
    textMap = identityDst(B, T);
    textX = sliceRows(x, B, N, D, 0, T);
    newTextMask = textMask;
  } else {
    textMap = tomeDst(sliceRows(attn.kbar, B, N, hd, 0, T), B, T, hd, plan.textMergeR, true);
    checkPlan('the text merge', textMap, plan.textMergeR);
    textX = weightedAverageByDst(sliceRows(x, B, N, D, 0, T), null, B, T, D, textMap).x;
    newTextMask = weightedAverageByDst(textMask, null, B, T, 1, textMap).x;
  }

  const tOut = plan.textOut;
  const iOut = plan.imageOut;
  const nOut = tOut + iOut;
  const outX = new Float64Array(B * nOut * D);
  const outMask = new Float64Array(B * nOut).fill(1);
  for (let b = 0; b < B; b++) {
    outX.set(textX.subarray(b * tOut * D, (b + 1) * tOut * D), b * nOut * D);
    outX.set(imageX.subarray(b * iOut * D, (b + 1) * iOut * D), (b * nOut + tOut) * D);
    outMask.set(newTextMask.subarray(b * tOut, (b + 1) * tOut), b * nOut);
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
      imageSaliency: toFloatTensor(saliency, [B, I]),
      keepIdx: intTensor(top.idx, [B, keep]),
      imageDst: intTensor(imageMap.dst, [B, keep]),
      textDst: intTensor(textMap.dst, [B, T]),
    },
  };
}

/** The ToMe baseline: ToMe over all N tokens on Kbar, token 0 protected, states and mask size-weighted. */
function reduceTome(
  plan: Extract<LayerPlan, { kind: 'tome' }>,
  layer: number,
  x: Float64Array,
  mask: Float64Array,
  kbar: Float64Array,
  B: number,
  D: number,
  hd: number,
): Reduced {
  const N = plan.textIn + plan.imageIn;
  const map = tomeDst(kbar, B, N, hd, plan.tomeR, true);
  checkPlan('the ToMe baseline merge', map, plan.tomeR);
  return {
    x: weightedAverageByDst(x, null, B, N, D, map).x,
    mask: weightedAverageByDst(mask, null, B, N, 1, map).x,
    textLen: plan.textOut,
    n: map.nOut,
    trace: {
      layer,
      kind: 'tome',
      textIn: plan.textIn,
      imageIn: plan.imageIn,
      textOut: plan.textOut,
      imageOut: plan.imageOut,
      tokenDst: intTensor(map.dst, [B, N]),
    },
  };
}

/**
 * One reduce-capable ViLT block, following the reference's Block.forward: pre-norm soft-mask attention,
 * residual, the reduce step the layer plan asks for (PuMer or the ToMe baseline), then pre-norm MLP with the
 * exact-erf GELU and a residual. Intermediates are float64; outputs float32.
 */
export function runBlockSync(args: BlockArgs): BlockResult {
  if (args === null || typeof args !== 'object')
    throw new PumerError('VALUE', 'block arguments must be an object');
  expectFloatInput('x', args.x, [null, null, null]);
  const [B, N, D] = args.x.shape as [number, number, number];
  expectFloatInput('mask', args.mask, [B, N]);
  const T = expectInteger('textLen', args.textLen, 0, N);
  const layer = expectInteger('layer', args.layer, 0);
  const numHeads = args.numHeads;
  const M = expectBlockWeights(args.weights, D, numHeads);
  const config =
    args.config === null || args.config === undefined ? null : validateReductionConfig(args.config);
  const w = args.weights;
  const hd = D / numHeads;
  const rows = B * N;

  const h = layerNormRows(args.x.data, rows, D, w.norm1);
  const attn = softMaskAttentionArrays(h, B, N, D, numHeads, w, args.mask.data);
  const x1 = attn.out;
  for (let i = 0; i < x1.length; i++) x1[i] += args.x.data[i]!;

  const plan: LayerPlan = config
    ? planLayer(config, layer, T, N - T)
    : { kind: 'none', textIn: T, imageIn: N - T, textOut: T, imageOut: N - T };
  let reduced: Reduced;
  if (plan.kind === 'pumer') {
    reduced = reducePumer(plan, config!, layer, x1, Float64Array.from(args.mask.data), attn, B, D, numHeads);
  } else if (plan.kind === 'tome') {
    reduced = reduceTome(plan, layer, x1, Float64Array.from(args.mask.data), attn.kbar, B, D, hd);
  } else {
    reduced = {
      x: x1,
      mask: Float64Array.from(args.mask.data),
      textLen: T,
      n: N,
      trace: { layer, kind: 'none', textIn: T, imageIn: N - T, textOut: T, imageOut: N - T },
    };
  }

  const n = reduced.n;
  const xr = reduced.x;
  const h2 = layerNormRows(xr, B * n, D, w.norm2);
  const hidden = linearRows(h2, B * n, D, w.fc1);
  geluInPlace(hidden);
  const out = linearRows(hidden, B * n, M, w.fc2);
  for (let i = 0; i < out.length; i++) out[i] += xr[i]!;

  return {
    x: toFloatTensor(out, [B, n, D]),
    mask: toFloatTensor(reduced.mask, [B, n]),
    textLen: reduced.textLen,
    attn: toFloatTensor(attn.probs, [B, numHeads, N, N]),
    trace: reduced.trace,
  };
}
