import {
  type BlockWeights,
  type CheckedMerge,
  type CoAttentionPlan,
  type LayerPlan,
  type ReductionConfig,
  type SaliencyRule,
  ShapeError,
} from '@pumer/core';
import { transformerBlock } from './block.js';
import { GraphBuilder } from './builder.js';
import { maskHat } from './nn.js';
import { mergeTokens } from './reduce/merge.js';
import { selectTop } from './reduce/prune.js';
import type { BlockTrace } from './reduce/reduce-layer.js';
import { saliencyScores } from './reduce/saliency.js';

/**
 * Each reducer op as its own small graph (batch dynamic), for parity against the golden vectors and the CPU
 * reference, and to serve the Backend contract's pruner / merger / runBlock on onnxruntime.
 */

const B = 'batch';

/** A merge graph: what core's checkMergeArgs decided (style rule, clamped r, protection) and the widths. */
export interface MergeGraphSpec
  extends Pick<CheckedMerge, 'rule' | 'n' | 'r' | 'protectFirst' | 'unmergedOrder'> {
  /** Metric width (styles that read a metric). */
  readonly c: number;
  /** State width. */
  readonly d: number;
  /** A `size` input [B, n, 1] (size-weighted styles). */
  readonly withSize: boolean;
}

/**
 * Inputs: `x` [B, n, d] and what the style reads: `metric` [B, n, c], `saliency` [B, n], `size` [B, n, 1]
 * (optional). Outputs: `x_out` [B, n - r, d], `dst` int32 [B, n], and `size_out` [B, n - r, 1] for
 * size-weighted styles.
 */
export function buildMergeGraph(spec: MergeGraphSpec): GraphBuilder {
  const { rule, n, r, c, d } = spec;
  const g = new GraphBuilder(`pumer_merge_${rule.style}`);
  const x = g.input('x', 'float32', [B, n, d]);
  const metric = rule.reads.metric ? g.input('metric', 'float32', [B, n, c]) : null;
  const saliency = rule.reads.saliency ? g.input('saliency', 'float32', [B, n]) : null;
  const size = rule.reads.size && spec.withSize ? g.input('size', 'float32', [B, n, 1]) : null;
  const merged = mergeTokens(g, spec, { n, x, metric, saliency, size });
  g.output(merged.x, 'x_out', 'float32', [B, n - r, d]);
  g.output(g.cast(merged.dst, 'int32'), 'dst', 'int32', [B, n]);
  if (rule.combine === 'size-weighted-mean') {
    const ones = () => g.add(g.mul(g.slice(x, 2, 0, 1), g.float(0)), g.float(1)); // [B, n, 1]
    g.output(merged.size ?? ones(), 'size_out', 'float32', [B, n - r, 1]);
  }
  return g;
}

export interface SaliencyGraphSpec {
  readonly rule: SaliencyRule;
  readonly numHeads: number;
  /** Sequence length N and text length T. */
  readonly n: number;
  readonly t: number;
  /** Head width (kbar / qbar). */
  readonly hd: number;
}

/**
 * Inputs: `attn` [B, H, N, N] or `kbar` (+ `qbar`) [B, N, hd] as the rule reads, and `text_mask` [B, T].
 * Output `scores` [B, N - T].
 */
export function buildSaliencyGraph(spec: SaliencyGraphSpec): GraphBuilder {
  const { rule, n, t } = spec;
  if (t < 1 || t >= n) throw new ShapeError(`saliency: text length ${t} must be in [1, ${n - 1}]`);
  const g = new GraphBuilder(`pumer_saliency_${rule.method}`);
  const usesAttn = rule.source === 'attention';
  const attn = usesAttn ? g.input('attn', 'float32', [B, spec.numHeads, n, n]) : undefined;
  const kbar = usesAttn ? undefined : g.input('kbar', 'float32', [B, n, spec.hd]);
  const qbar = rule.textSide === 'queries' ? g.input('qbar', 'float32', [B, n, spec.hd]) : undefined;
  const textMask = g.input('text_mask', 'float32', [B, t]);
  g.output(saliencyScores(g, rule, { attn, kbar, qbar, textMask }, t, n), 'scores', 'float32', [B, n - t]);
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

/**
 * Declares a layer's (or a METER co-attention step's) trace values as graph outputs (`${prefix}saliency`,
 * `…keep_idx`, …); returns their names.
 */
export function emitTrace(
  g: GraphBuilder,
  trace: BlockTrace,
  plan: LayerPlan | CoAttentionPlan,
  prefix: string,
): TraceOutputs {
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
      // A METER step whose image passes unchanged has no kept indices or image destinations.
      if (trace[key] === undefined) continue;
      out[key] = `${prefix}${name}`;
      g.output(g.cast(trace[key]!, 'int32'), out[key], 'int32', [B, len]);
    }
  } else if (plan.kind !== 'none') {
    // The ToMe baseline.
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
