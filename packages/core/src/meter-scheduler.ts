import { type ReductionConfig, validateMeterReductionConfig } from './config.js';
import { ConfigError } from './errors.js';
import type { MeterGeometry } from './meter.js';
import { type CoAttentionPlan, planCoAttentionStep } from './rules/co-attention-plan.js';
import {
  feedForwardActivationBytes,
  feedForwardFlops,
  selfAttentionActivationBytes,
  selfAttentionFlops,
} from './scheduler.js';

/**
 * METER's cost model (docs/meter.md, "Cost model"): token counts, FLOPs and activation bytes per
 * co-attention step for a geometry and a schedule, without running a model. The encoders (RoBERTa, CLIP ViT) are never reduced, so
 * the whole model's ideal speed-up is smaller than that of the co-attention part alone; both are reported.
 * Like the ViLT scheduler it counts multiply-adds ×2 of the matrix products and ignores norms, softmax and
 * the reduce step itself; the pooler and head are left out (they see one token per stream).
 */

/** The text window the METER-B geometries are costed at (the authors' METER default `max_text_len`). */
export const METER_TEXT_TOKENS = 40;

/** METER-B/16 at `imageSize` px: CLIP ViT-B/16 as the authors build it (11 blocks), RoBERTa-base, 6 steps. */
function meterB16(imageSize: number): MeterGeometry {
  return Object.freeze({
    hiddenSize: 768,
    numHeads: 12,
    intermediateSize: 3072,
    numSteps: 6,
    crossLayerNormEps: 1e-12,
    maxTextLength: METER_TEXT_TOKENS,
    text: Object.freeze({
      numLayers: 12,
      hiddenSize: 768,
      numHeads: 12,
      intermediateSize: 3072,
      layerNormEps: 1e-5,
      vocabSize: 50265,
      maxPositions: 514,
      padTokenId: 1,
    }),
    image: Object.freeze({
      width: 768,
      numBlocks: 11,
      numHeads: 12,
      patchSize: 16,
      imageSize,
      layerNormEps: 1e-5,
    }),
    // The authors' VQAv2 answer vocabulary; the head is not costed.
    numLabels: 3129,
    numImages: 1,
  });
}

/** METER-B/16 at 288×288: 18² + 1 = 325 image tokens. */
export const METER_B16_288_GEOMETRY: MeterGeometry = meterB16(288);
/** METER-B/16 at 384×384: 24² + 1 = 577 image tokens. */
export const METER_B16_384_GEOMETRY: MeterGeometry = meterB16(384);

/** Image tokens of one image: (S/patch)² patches and the class token. */
export function meterImageTokens(g: MeterGeometry): number {
  const side = g.image.imageSize / g.image.patchSize;
  return side * side + 1;
}

/** FLOPs of cross-attention: `nQuery` queries of width d attend to `nSource` keys/values of width d. */
export function crossAttentionFlops(nQuery: number, nSource: number, d: number): number {
  const q = 2 * nQuery * d * d;
  const kv = 2 * nSource * d * 2 * d;
  const scores = 2 * nQuery * nSource * d;
  const context = 2 * nQuery * nSource * d;
  const proj = 2 * nQuery * d * d;
  return q + kv + scores + context + proj;
}

/**
 * FLOPs of one co-attention layer (the authors' BertCrossLayer): self-attention over its `nSelf` tokens,
 * cross-attention to `nSource` tokens of the other stream, the FFN over `nOut` (fewer after the text layer's
 * reduce step, which sits between cross-attention and FFN).
 */
export function crossLayerFlops(g: MeterGeometry, nSelf: number, nSource: number, nOut: number): number {
  const d = g.hiddenSize;
  return (
    selfAttentionFlops(nSelf, d) +
    crossAttentionFlops(nSelf, nSource, d) +
    feedForwardFlops(nOut, d, g.intermediateSize)
  );
}

/** Peak float32 activation bytes of one co-attention layer: the largest of its three sub-blocks. */
export function crossLayerActivationBytes(
  g: MeterGeometry,
  nSelf: number,
  nSource: number,
  nOut: number,
): number {
  const d = g.hiddenSize;
  // Cross-attention holds the layer's state and queries, the source with its keys and values, the probabilities.
  const cross = 4 * (nSelf * d * 2 + nSource * d * 3 + g.numHeads * nSelf * nSource);
  return Math.max(
    selfAttentionActivationBytes(nSelf, d, g.numHeads),
    cross,
    feedForwardActivationBytes(nOut, d, g.intermediateSize),
  );
}

export interface MeterEncoderCost {
  /** RoBERTa over the padded text window, then cross_modal_text_transform. */
  readonly textFlops: number;
  /** CLIP ViT (patch projection and blocks) over every image token, then cross_modal_image_transform. */
  readonly imageFlops: number;
  readonly flops: number;
  /** Largest activation footprint of any encoder layer (the same with and without a schedule). */
  readonly peakActivationBytes: number;
}

/** The unreduced encoders' cost for one example (one pass). */
export function meterEncoderCost(g: MeterGeometry, textTokens: number): MeterEncoderCost {
  const t = g.text;
  const v = g.image;
  const imageTokens = meterImageTokens(g);
  const patches = imageTokens - 1;
  const mlp = 4 * v.width; // CLIP's MLP width
  const textLayer =
    selfAttentionFlops(textTokens, t.hiddenSize) +
    feedForwardFlops(textTokens, t.hiddenSize, t.intermediateSize);
  const imageBlock = selfAttentionFlops(imageTokens, v.width) + feedForwardFlops(imageTokens, v.width, mlp);
  const textFlops = t.numLayers * textLayer + 2 * textTokens * t.hiddenSize * g.hiddenSize;
  const imageFlops =
    2 * patches * 3 * v.patchSize * v.patchSize * v.width +
    v.numBlocks * imageBlock +
    2 * imageTokens * v.width * g.hiddenSize;
  const peakActivationBytes = Math.max(
    selfAttentionActivationBytes(textTokens, t.hiddenSize, t.numHeads),
    feedForwardActivationBytes(textTokens, t.hiddenSize, t.intermediateSize),
    selfAttentionActivationBytes(imageTokens, v.width, v.numHeads),
    feedForwardActivationBytes(imageTokens, v.width, mlp),
  );
  return { textFlops, imageFlops, flops: textFlops + imageFlops, peakActivationBytes };
}

export interface MeterStepSchedule {
  readonly step: number;
  /** What the text layer's reduce step does (core's planCoAttentionStep). */
  readonly plan: CoAttentionPlan;
  /** Tokens after this step (what the next step sees). */
  readonly textTokens: number;
  readonly imageTokens: number;
  /** Text layer: self-attention over T, cross-attention T→I, FFN over the reduced T'. */
  readonly textLayerFlops: number;
  /** Image layer: self-attention over I', cross-attention I'→T', FFN over I'. */
  readonly imageLayerFlops: number;
  readonly flops: number;
  readonly textLayerActivationBytes: number;
  readonly imageLayerActivationBytes: number;
  /** The larger of the two layers' peaks (they run one after the other). */
  readonly activationBytes: number;
}

export interface MeterSchedule {
  readonly geometry: MeterGeometry;
  /** Text tokens per example the figures are for (padding included: the reference reduces over the window). */
  readonly textTokens: number;
  /** Image tokens per image, class token included. */
  readonly imageTokens: number;
  readonly encoders: MeterEncoderCost;
  readonly steps: readonly MeterStepSchedule[];
  /** FLOPs of the co-attention steps, with the schedule and without. */
  readonly coAttentionFlops: number;
  readonly baselineCoAttentionFlops: number;
  /** baselineCoAttentionFlops / coAttentionFlops. */
  readonly coAttentionIdealSpeedup: number;
  /** The whole model (encoders + steps) for one example; NLVR2's two passes scale both sides alike. */
  readonly flops: number;
  readonly baselineFlops: number;
  /** baselineFlops / flops: the speed-up if time were proportional to FLOPs, counting the unreduced encoders. */
  readonly idealSpeedup: number;
  /** Largest per-step activation footprint (step 0 sees every token, so it rarely drops). */
  readonly peakActivationBytes: number;
  readonly baselinePeakActivationBytes: number;
  /** Activation bytes summed over the steps. */
  readonly totalActivationBytes: number;
  readonly baselineTotalActivationBytes: number;
}

export interface MeterScheduleOptions {
  /** Text tokens per example (default: the geometry's maxTextLength). */
  readonly textTokens?: number;
}

function checkMeterGeometry(g: MeterGeometry, textTokens: number): void {
  const fields: [string, number][] = [
    ['hiddenSize', g.hiddenSize],
    ['numHeads', g.numHeads],
    ['intermediateSize', g.intermediateSize],
    ['numSteps', g.numSteps],
    ['text.numLayers', g.text.numLayers],
    ['text.hiddenSize', g.text.hiddenSize],
    ['text.numHeads', g.text.numHeads],
    ['text.intermediateSize', g.text.intermediateSize],
    ['image.width', g.image.width],
    ['image.numBlocks', g.image.numBlocks],
    ['image.numHeads', g.image.numHeads],
    ['image.patchSize', g.image.patchSize],
    ['image.imageSize', g.image.imageSize],
    ['textTokens', textTokens],
  ];
  for (const [k, v] of fields) {
    if (!Number.isInteger(v) || v < 1)
      throw new ConfigError(`geometry.${k}`, `must be a positive integer, got ${v}`);
  }
  if (g.hiddenSize % g.numHeads !== 0) {
    throw new ConfigError('geometry.numHeads', `must divide hiddenSize ${g.hiddenSize}, got ${g.numHeads}`);
  }
  if (g.image.imageSize % g.image.patchSize !== 0) {
    throw new ConfigError(
      'geometry.image.imageSize',
      `must be a multiple of the patch size ${g.image.patchSize}, got ${g.image.imageSize}`,
    );
  }
}

/**
 * Token counts, FLOPs and activation bytes per co-attention step of METER for a schedule in step indices
 * (`null`: no reduction), plus the unreduced encoders, for one example.
 */
export function meterSchedule(
  geometry: MeterGeometry,
  config: ReductionConfig | null,
  options: MeterScheduleOptions = {},
): MeterSchedule {
  const textTokens = options.textTokens ?? geometry.maxTextLength;
  checkMeterGeometry(geometry, textTokens);
  const cfg = config ? validateMeterReductionConfig(config, geometry.numSteps) : null;
  const imageTokens = meterImageTokens(geometry);
  const encoders = meterEncoderCost(geometry, textTokens);
  const baselineText = crossLayerFlops(geometry, textTokens, imageTokens, textTokens);
  const baselineImage = crossLayerFlops(geometry, imageTokens, textTokens, imageTokens);
  const baselineStepBytes = Math.max(
    crossLayerActivationBytes(geometry, textTokens, imageTokens, textTokens),
    crossLayerActivationBytes(geometry, imageTokens, textTokens, imageTokens),
  );
  const steps: MeterStepSchedule[] = [];
  let t = textTokens;
  let i = imageTokens;
  let coAttentionFlops = 0;
  let peak = 0;
  let total = 0;
  for (let step = 0; step < geometry.numSteps; step++) {
    const plan = planCoAttentionStep(cfg, step, t, i);
    const tOut = plan.textOut;
    const iOut = plan.imageOut;
    const textLayerFlops = crossLayerFlops(geometry, t, i, tOut);
    const imageLayerFlops = crossLayerFlops(geometry, iOut, tOut, iOut);
    const textLayerActivationBytes = crossLayerActivationBytes(geometry, t, i, tOut);
    const imageLayerActivationBytes = crossLayerActivationBytes(geometry, iOut, tOut, iOut);
    const activationBytes = Math.max(textLayerActivationBytes, imageLayerActivationBytes);
    steps.push({
      step,
      plan,
      textTokens: tOut,
      imageTokens: iOut,
      textLayerFlops,
      imageLayerFlops,
      flops: textLayerFlops + imageLayerFlops,
      textLayerActivationBytes,
      imageLayerActivationBytes,
      activationBytes,
    });
    coAttentionFlops += textLayerFlops + imageLayerFlops;
    peak = Math.max(peak, activationBytes);
    total += activationBytes;
    t = tOut;
    i = iOut;
  }
  const baselineCoAttentionFlops = geometry.numSteps * (baselineText + baselineImage);
  const flops = encoders.flops + coAttentionFlops;
  const baselineFlops = encoders.flops + baselineCoAttentionFlops;
  return {
    geometry,
    textTokens,
    imageTokens,
    encoders,
    steps,
    coAttentionFlops,
    baselineCoAttentionFlops,
    coAttentionIdealSpeedup: baselineCoAttentionFlops / coAttentionFlops,
    flops,
    baselineFlops,
    idealSpeedup: baselineFlops / flops,
    peakActivationBytes: peak,
    baselinePeakActivationBytes: baselineStepBytes,
    totalActivationBytes: total,
    baselineTotalActivationBytes: geometry.numSteps * baselineStepBytes,
  };
}
