import {
  type CoAttentionPlan,
  type CoAttentionStepWeights,
  checkMeterModel,
  type MeterModel,
  planCoAttentionStep,
  type ReductionConfig,
  ShapeError,
  validateMeterReductionConfig,
} from '@pumer/core';
import { type Dim, GraphBuilder } from '../builder.js';
import { linear } from '../nn.js';
import { emitTrace, type TraceOutputs } from '../standalone.js';
import { coAttentionStep } from './co-attention-step.js';
import { meterHead, meterPooledFeatures } from './head.js';
import { imageEncoder } from './image-encoder.js';
import { textEncoder } from './text-encoder.js';

/**
 * METER as ONNX graphs (docs/meter.md): the whole model for one text length and schedule, and one co-attention
 * step on its own (the golden `meter_cross_layer` case). Twin of @pumer/backend-cpu's meter/meter-forward.ts.
 */

const B = 'batch';

/** One co-attention step of a pass: core's plan and the names of its trace outputs. */
export interface MeterGraphStep {
  readonly plan: CoAttentionPlan;
  readonly trace: TraceOutputs;
}

export interface MeterGraph {
  readonly graph: GraphBuilder;
  readonly textLen: number;
  readonly config: ReductionConfig | null;
  /** Per image pass (NLVR2: two), per step: the plan and its trace outputs. */
  readonly passes: readonly (readonly MeterGraphStep[])[];
}

/** Checks the model (core's `checkMeterModel`) and that its text window and positions hold `textLen` tokens. */
function checkMeterGraph(model: MeterModel, textLen: number): void {
  checkMeterModel(model);
  const geo = model.geometry;
  if (!Number.isInteger(textLen) || textLen < 1 || textLen > geo.maxTextLength) {
    throw new ShapeError(`text length ${textLen} must be an integer in [1, ${geo.maxTextLength}]`);
  }
  // RoBERTa's positions run up to textLen + padTokenId.
  if (textLen + geo.text.padTokenId >= geo.text.maxPositions) {
    throw new ShapeError(
      `text length ${textLen} needs ${textLen + geo.text.padTokenId + 1} positions, the model has ${geo.text.maxPositions}`,
    );
  }
}

/**
 * The whole METER for one text length and schedule as a single graph: the RoBERTa text encoder (once), then one
 * pass per image (NLVR2: two, token types 1 and 2, each reduced on its own): CLIP ViT, cross-modal transforms +
 * token types, every co-attention step as core's `planCoAttentionStep` says, the pooled cls_feats; then the head
 * over the passes' cls_feats side by side.
 * Inputs: `input_ids` int32 [B, T], `attention_mask` float32 [B, T], `pixel_values` float32 [B, 3, S, S]
 * ([B, 2, 3, S, S] for NLVR2). Outputs: `logits`, `cls_feats` [B, 2D·numImages] and, per reducing step s, the
 * trace `step{s}_saliency|keep_idx|image_dst|text_dst` (NLVR2: `image1_step{s}_*`, `image2_step{s}_*`).
 */
export function buildMeterGraph(
  model: MeterModel,
  textLen: number,
  config: ReductionConfig | null,
): MeterGraph {
  checkMeterGraph(model, textLen);
  const geo = model.geometry;
  const w = model.weights;
  const cfg = config ? validateMeterReductionConfig(config, geo.numSteps) : null;
  const t = textLen;
  const d = geo.hiddenSize;
  const numImages = geo.numImages;
  const s = geo.image.imageSize;
  const g = new GraphBuilder('pumer_meter');

  const inputIds = g.input('input_ids', 'int32', [B, t]);
  const attentionMask = g.input('attention_mask', 'float32', [B, t]);
  const pixelDims: Dim[] = numImages === 1 ? [B, 3, s, s] : [B, numImages, 3, s, s];
  const pixels = g.input('pixel_values', 'float32', pixelDims);

  const tokenType = (row: number) =>
    g.floats(w.tokenTypeEmbeddings.data.subarray(row * d, (row + 1) * d), [d]);
  const text0 = g.add(
    linear(
      g,
      textEncoder(g, model, inputIds, attentionMask, t),
      w.textTransform,
      'cross_modal_text_transform',
    ),
    tokenType(0),
  ); // [B, T, D]
  const imageTokens = (s / geo.image.patchSize) ** 2 + 1;

  const passes: MeterGraphStep[][] = [];
  const feats: string[] = [];
  for (let i = 0; i < numImages; i++) {
    const prefix = numImages === 1 ? 'step' : `image${i + 1}_step`;
    const image = numImages === 1 ? pixels : g.squeeze(g.slice(pixels, 1, i, i + 1), [1]);
    let y = g.add(
      linear(g, imageEncoder(g, model, image), w.imageTransform, 'cross_modal_image_transform'),
      tokenType(i + 1),
    );
    let x = text0;
    let textMask = attentionMask;
    // The image mask is all ones: [B, I] without a run-time shape.
    let imageMask = g.add(
      g.mul(g.slice(attentionMask, 1, 0, 1), g.float(0)),
      g.floats(new Array(imageTokens).fill(1), [1, imageTokens]),
    );
    let textIn = t;
    let imageIn = imageTokens;
    const steps: MeterGraphStep[] = [];
    for (let k = 0; k < geo.numSteps; k++) {
      const plan = planCoAttentionStep(cfg, k, textIn, imageIn);
      const scope = `${prefix}${k}`;
      const out = g.within(scope, () =>
        coAttentionStep(
          g,
          w.steps[k]!,
          { text: x, textMask, image: y, imageMask },
          plan,
          geo.numHeads,
          geo.crossLayerNormEps,
          scope,
        ),
      );
      x = out.text;
      textMask = out.textMask;
      y = out.image;
      imageMask = out.imageMask;
      steps.push({ plan, trace: emitTrace(g, out.trace, plan, `${scope}_`) });
      textIn = plan.textOut;
      imageIn = plan.imageOut;
    }
    passes.push(steps);
    feats.push(meterPooledFeatures(g, w, x, y));
  }
  const clsFeats = g.concat(feats, 1);
  const head = w.head;
  g.output(meterHead(g, head, clsFeats), 'logits', 'float32', [
    B,
    head.kind === 'rank' ? 1 : head.fc2.weight.shape[0],
  ]);
  g.output(clsFeats, 'cls_feats', 'float32', [B, 2 * d * numImages]);
  return { graph: g, textLen: t, config: cfg, passes };
}

export interface CoAttentionStepGraphSpec {
  readonly weights: CoAttentionStepWeights;
  readonly numHeads: number;
  readonly layerNormEps: number;
  /** core's `planCoAttentionStep` for the step and its token counts. */
  readonly plan: CoAttentionPlan;
}

/**
 * One co-attention step on raw tensors (the golden `meter_cross_layer`). Inputs `text` [B, T, D], `text_mask`
 * [B, T], `image` [B, I, D], `image_mask` [B, I]; outputs `text_out`, `text_mask_out`, `image_reduced`,
 * `image_mask_out`, `image_out`, `txt2img_attn` [B, H, T, I], `img2txt_attn` [B, H, I', T'] and the step's trace
 * (`trace_*`).
 */
export function buildCoAttentionStepGraph(spec: CoAttentionStepGraphSpec): {
  graph: GraphBuilder;
  trace: TraceOutputs;
} {
  const { plan, numHeads } = spec;
  const d = spec.weights.text.attention.query.weight.shape[0];
  const g = new GraphBuilder('pumer_meter_step');
  const text = g.input('text', 'float32', [B, plan.textIn, d]);
  const textMask = g.input('text_mask', 'float32', [B, plan.textIn]);
  const image = g.input('image', 'float32', [B, plan.imageIn, d]);
  const imageMask = g.input('image_mask', 'float32', [B, plan.imageIn]);
  const out = coAttentionStep(
    g,
    spec.weights,
    { text, textMask, image, imageMask },
    plan,
    numHeads,
    spec.layerNormEps,
    'step',
  );
  g.output(out.text, 'text_out', 'float32', [B, plan.textOut, d]);
  g.output(out.textMask, 'text_mask_out', 'float32', [B, plan.textOut]);
  g.output(out.imageReduced, 'image_reduced', 'float32', [B, plan.imageOut, d]);
  g.output(out.imageMask, 'image_mask_out', 'float32', [B, plan.imageOut]);
  g.output(out.image, 'image_out', 'float32', [B, plan.imageOut, d]);
  g.output(out.textToImageAttn, 'txt2img_attn', 'float32', [B, numHeads, plan.textIn, plan.imageIn]);
  g.output(out.imageToTextAttn, 'img2txt_attn', 'float32', [B, numHeads, plan.imageOut, plan.textOut]);
  return { graph: g, trace: emitTrace(g, out.trace, plan, 'trace_') };
}
