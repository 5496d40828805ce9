import { type ReductionConfig, validateReductionConfig } from './config.js';
import { ConfigError } from './errors.js';
import { type LayerPlan, planLayer } from './rules/layer-plan.js';

/** The shape of a single-stream vision-language transformer, as far as cost is concerned. */
export interface ModelGeometry {
  readonly numLayers: number;
  readonly hiddenSize: number;
  readonly numHeads: number;
  readonly intermediateSize: number;
  /** Text tokens per example (padding included: the reference reduces over the padded window). */
  readonly textTokens: number;
  /** Image tokens per example, image [CLS] included. */
  readonly imageTokens: number;
}

/** ViLT-B/32 at 384x384: 144 patches + image [CLS], 40 text tokens. */
export const VILT_B32_GEOMETRY: ModelGeometry = Object.freeze({
  numLayers: 12,
  hiddenSize: 768,
  numHeads: 12,
  intermediateSize: 3072,
  textTokens: 40,
  imageTokens: 145,
});

export interface LayerSchedule {
  readonly layer: number;
  readonly plan: LayerPlan;
  /** Tokens after this layer (what the next layer sees). */
  readonly textTokens: number;
  readonly imageTokens: number;
  /** Multiply-adds x2 of this layer for one example. Attention runs on the tokens before the reduce step, the MLP on those after. */
  readonly flops: number;
  /** Peak float32 activation bytes of this layer for one example (hidden states, q/k/v, attention probabilities, MLP hidden). */
  readonly activationBytes: number;
}

export interface Schedule {
  readonly geometry: ModelGeometry;
  readonly layers: readonly LayerSchedule[];
  readonly flops: number;
  readonly baselineFlops: number;
  /** baselineFlops / flops: the speed-up if time were proportional to FLOPs. */
  readonly idealSpeedup: number;
  /** Largest per-layer activation footprint (layer 0 always sees every token, so reduction rarely lowers it). */
  readonly peakActivationBytes: number;
  readonly baselinePeakActivationBytes: number;
  /** Activation bytes summed over layers: what a run that keeps every layer's activations (training, tracing) holds. */
  readonly totalActivationBytes: number;
  readonly baselineTotalActivationBytes: number;
}

/** FLOPs of self-attention over `n` tokens of width `d` for one example: Q/K/V, QKᵀ, ×V, output projection. */
export function selfAttentionFlops(n: number, d: number): number {
  const qkv = 2 * n * d * 3 * d;
  const scores = 2 * n * n * d; // QK^T over all heads
  const context = 2 * n * n * d; // attention x V
  const proj = 2 * n * d * d;
  return qkv + scores + context + proj;
}

/** FLOPs of a two-matrix MLP (d → f → d) over `n` tokens for one example. */
export function feedForwardFlops(n: number, d: number, f: number): number {
  return 2 * n * d * f * 2;
}

/** Float32 bytes of self-attention over `n` tokens: x, q, k, v and the heads' n×n probabilities. */
export function selfAttentionActivationBytes(n: number, d: number, heads: number): number {
  return 4 * (n * d * 4 + heads * n * n);
}

/** Float32 bytes of an MLP over `n` tokens: input, output and the hidden layer. */
export function feedForwardActivationBytes(n: number, d: number, f: number): number {
  return 4 * n * (d * 2 + f);
}

/** FLOPs of one layer for one example: attention over `nIn` tokens, MLP over `nOut` (ViLT's reduce step sits between). */
export function layerFlops(g: ModelGeometry, nIn: number, nOut: number): number {
  return selfAttentionFlops(nIn, g.hiddenSize) + feedForwardFlops(nOut, g.hiddenSize, g.intermediateSize);
}

/** Peak float32 activation bytes of one layer for one example. */
export function layerActivationBytes(g: ModelGeometry, nIn: number, nOut: number): number {
  return Math.max(
    selfAttentionActivationBytes(nIn, g.hiddenSize, g.numHeads),
    feedForwardActivationBytes(nOut, g.hiddenSize, g.intermediateSize),
  );
}

function checkGeometry(g: ModelGeometry): void {
  for (const k of [
    'numLayers',
    'hiddenSize',
    'numHeads',
    'intermediateSize',
    'textTokens',
    'imageTokens',
  ] as const) {
    const v = g[k];
    if (!Number.isInteger(v) || v < 1)
      throw new ConfigError(`geometry.${k}`, `must be a positive integer, got ${v}`);
  }
  if (g.hiddenSize % g.numHeads !== 0) {
    throw new ConfigError('geometry.numHeads', `must divide hiddenSize ${g.hiddenSize}, got ${g.numHeads}`);
  }
}

/**
 * Token counts, FLOPs and activation memory per layer for a geometry and a schedule (`null`: no reduction),
 * without running a model.
 */
export function schedule(geometry: ModelGeometry, config: ReductionConfig | null): Schedule {
  checkGeometry(geometry);
  const cfg = config ? validateReductionConfig(config, geometry.numLayers) : null;
  const layers: LayerSchedule[] = [];
  let t = geometry.textTokens;
  let i = geometry.imageTokens;
  const n0 = t + i;
  let flops = 0;
  let baselineFlops = 0;
  let peak = 0;
  let totalMem = 0;
  for (let layer = 0; layer < geometry.numLayers; layer++) {
    const plan: LayerPlan = cfg
      ? planLayer(cfg, layer, t, i)
      : { kind: 'none', textIn: t, imageIn: i, textOut: t, imageOut: i };
    const nIn = t + i;
    const nOut = plan.textOut + plan.imageOut;
    const f = layerFlops(geometry, nIn, nOut);
    const mem = layerActivationBytes(geometry, nIn, nOut);
    layers.push({
      layer,
      plan,
      textTokens: plan.textOut,
      imageTokens: plan.imageOut,
      flops: f,
      activationBytes: mem,
    });
    flops += f;
    baselineFlops += layerFlops(geometry, n0, n0);
    peak = Math.max(peak, mem);
    totalMem += mem;
    t = plan.textOut;
    i = plan.imageOut;
  }
  return {
    geometry,
    layers,
    flops,
    baselineFlops,
    idealSpeedup: baselineFlops / flops,
    peakActivationBytes: peak,
    baselinePeakActivationBytes: layerActivationBytes(geometry, n0, n0),
    totalActivationBytes: totalMem,
    baselineTotalActivationBytes: geometry.numLayers * layerActivationBytes(geometry, n0, n0),
  };
}
