import {
  type BlockWeights,
  type LayerPlan,
  type MergeStyle,
  mergeLimit,
  type ReductionConfig,
  type Saliency,
  ShapeError,
} from '@pumer/core';
import { type BlockTrace, transformerBlock } from './block.js';
import { GraphBuilder } from './builder.js';
import { l2Normalize, maskHat } from './nn.js';
import { bipartiteDst, identityDst, mergeImage, mergeRows, saliencyScores, selectTop } from './reduce.js';

/**
 * Each reducer op as its own small graph (batch dynamic), for parity against the golden vectors and the CPU
 * reference, and to serve the Backend contract's pruner / merger / runBlock on onnxruntime.
 */

const B = 'batch';

export interface MergeGraphSpec {
  readonly style: MergeStyle;
  /** Rows merged over. */
  readonly n: number;
  /** Metric width (tip, tome). */
  readonly c: number;
  /** State width. */
  readonly d: number;
  /** Requested r (clamped here with core's mergeLimit). */
  readonly r: number;
  /** tome: protect row 0 and re-sort unmerged rows by position (ToMe's class_token). */
  readonly protectFirst: boolean;
  /** tome: a `size` input [B, n, 1]. */
  readonly withSize: boolean;
}

/** r after the style's clamp: what the merge graph will remove. */
export function clampedMergeR(spec: Pick<MergeGraphSpec, 'style' | 'n' | 'r' | 'protectFirst'>): number {
  const protect = spec.style === 'tip' || (spec.style === 'tome' && spec.protectFirst);
  return Math.min(Math.max(0, Math.floor(spec.r)), mergeLimit(spec.n, protect));
}

/**
 * Inputs: `x` [B, n, d]; `metric` [B, n, c] (tip, tome); `saliency` [B, n] (tip, diff); `size` [B, n, 1] (tome,
 * optional). Outputs: `x` [B, n - r, d], `dst` int32 [B, n], and `size` [B, n - r, 1] for tome.
 */
export function buildMergeGraph(spec: MergeGraphSpec): GraphBuilder {
  const { n, c, d, style } = spec;
  const r = clampedMergeR(spec);
  const g = new GraphBuilder(`pumer_merge_${style}`);
  const x = g.input('x', 'float32', [B, n, d]);
  const metric = style === 'diff' ? null : g.input('metric', 'float32', [B, n, c]);
  const saliency = style === 'tome' ? null : g.input('saliency', 'float32', [B, n]);
  const size = style === 'tome' && spec.withSize ? g.input('size', 'float32', [B, n, 1]) : null;
  const nOut = n - r;
  let outX: string;
  let dst: string;
  let outSize: string | null = null;
  if (r === 0) {
    outX = x;
    dst = identityDst(g, g.reduceSum(x, [2], false), n);
    outSize = size ?? g.add(g.mul(g.slice(x, 2, 0, 1), g.float(0)), g.float(1)); // ones [B, n, 1]
  } else if (style === 'tome') {
    const m = bipartiteDst(g, {
      n,
      r,
      protectFirst: spec.protectFirst,
      unmergedOrder: spec.protectFirst ? 'position' : 'score',
      score: { kind: 'similarity', metric: l2Normalize(g, metric!) },
    });
    const merged = mergeRows(g, x, m.dst, m.nOut, 'mean', size);
    outX = merged.x;
    outSize = merged.size;
    dst = m.dst;
  } else {
    const merged = mergeImage(g, { style, x, kbar: metric, saliency, n, r });
    outX = merged.x;
    dst = merged.dst;
  }
  g.output(outX, 'x_out', 'float32', [B, nOut, d]);
  g.output(g.cast(dst, 'int32'), 'dst', 'int32', [B, n]);
  if (style === 'tome') g.output(outSize!, 'size_out', 'float32', [B, nOut, 1]);
  return g;
}

export interface SaliencyGraphSpec {
  readonly method: Saliency;
  readonly numHeads: number;
  /** Sequence length N and text length T. */
  readonly n: number;
  readonly t: number;
  /** Head width (kbar / qbar). */
  readonly hd: number;
}

/** Inputs: `attn` [B, H, N, N] or `kbar` (+ `qbar`) [B, N, hd], and `text_mask` [B, T]. Output `scores` [B, N - T]. */
export function buildSaliencyGraph(spec: SaliencyGraphSpec): GraphBuilder {
  const { method, n, t } = spec;
  if (t < 1 || t >= n) throw new ShapeError(`saliency: text length ${t} must be in [1, ${n - 1}]`);
  const g = new GraphBuilder(`pumer_saliency_${method}`);
  const usesAttn = method === 'first_head' || method === 'mean_head';
  const attn = usesAttn ? g.input('attn', 'float32', [B, spec.numHeads, n, n]) : undefined;
  const kbar = usesAttn ? undefined : g.input('kbar', 'float32', [B, n, spec.hd]);
  const qbar = method === 'qk' ? g.input('qbar', 'float32', [B, n, spec.hd]) : undefined;
  const textMask = g.input('text_mask', 'float32', [B, t]);
  g.output(saliencyScores(g, method, { attn, kbar, qbar, textMask }, t, n), 'scores', 'float32', [B, n - t]);
  return g;
}

/** Input `scores` [B, n]; outputs `keep_idx` int32 [B, keep] and `values` [B, keep], highest first. */
export function buildPruneGraph(n: number, keep: number): GraphBuilder {
  if (!Number.isInteger(keep) || keep < 1 || keep > n)
    throw new ShapeError(`prune: keep ${keep} must be in [1, ${n}]`);
  const g = new GraphBuilder('pumer_prune');
  const scores = g.input('scores', 'float32', [B, n]);
  const top = selectTop(g, scores, n, keep);
  g.output(g.cast(top.idx, 'int32'), 'keep_idx', 'int32', [B, keep]);
  g.output(top.values, 'values', 'float32', [B, keep]);
  return g;
}

export interface BlockGraphSpec {
  readonly weights: BlockWeights;
  readonly numHeads: number;
  readonly plan: LayerPlan;
  readonly config: ReductionConfig | null;
}

/** Names of the trace outputs a graph emits for one layer. */
export interface TraceOutputs {
  readonly saliency?: string;
  readonly keepIdx?: string;
  readonly imageDst?: string;
  readonly textDst?: string;
  readonly tokenDst?: string;
}

/** Declares a layer's trace values as graph outputs (`${prefix}saliency`, `…keep_idx`, …); returns their names. */
export function emitTrace(g: GraphBuilder, trace: BlockTrace, plan: LayerPlan, prefix: string): TraceOutputs {
  const out: Record<string, string> = {};
  if (plan.kind === 'pumer') {
    out['saliency'] = `${prefix}saliency`;
    g.output(trace.saliency!, out['saliency'], 'float32', [B, plan.imageIn]);
    const ints: [keyof BlockTrace, string, number][] = [
      ['keepIdx', 'keep_idx', plan.keep],
      ['imageDst', 'image_dst', plan.keep],
      ['textDst', 'text_dst', plan.textIn],
    ];
    for (const [key, name, len] of ints) {
      out[key] = `${prefix}${name}`;
      g.output(g.cast(trace[key]!, 'int32'), out[key], 'int32', [B, len]);
    }
  } else if (plan.kind === 'tome') {
    out['tokenDst'] = `${prefix}token_dst`;
    g.output(g.cast(trace.tokenDst!, 'int32'), out['tokenDst'], 'int32', [B, plan.textIn + plan.imageIn]);
  }
  return out;
}

/**
 * The golden `vilt_block`: inputs `x` [B, N, D] and `mask` [B, N]; outputs `x_out`, `mask_out`, `attn`
 * [B, H, N, N] (before reduction) and the layer's trace (`trace_*`).
 */
export function buildBlockGraph(spec: BlockGraphSpec): { graph: GraphBuilder; trace: TraceOutputs } {
  const { plan, weights } = spec;
  const d = weights.query.weight.shape[0];
  const n = plan.textIn + plan.imageIn;
  const nOut = plan.textOut + plan.imageOut;
  const g = new GraphBuilder('pumer_block');
  const x = g.input('x', 'float32', [B, n, d]);
  const mask = g.input('mask', 'float32', [B, n]);
  const out = transformerBlock(
    g,
    { x, mask, maskHat: maskHat(g, mask, n) },
    weights,
    spec.numHeads,
    plan,
    spec.config,
    'block',
  );
  g.output(out.x, 'x_out', 'float32', [B, nOut, d]);
  g.output(out.mask, 'mask_out', 'float32', [B, nOut]);
  g.output(out.attn, 'attn', 'float32', [B, spec.numHeads, n, n]);
  return { graph: g, trace: emitTrace(g, out.trace, plan, 'trace_') };
}
