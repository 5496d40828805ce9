import {
  checkMeterInputs,
  checkMeterModel,
  type LayerTrace,
  type MeterInputs,
  type MeterModel,
  type MeterOutputs,
  planCoAttentionStep,
  type ReductionConfig,
  validateMeterReductionConfig,
} from '@pumer/core';
import type { Floats } from '../ops/arrays.js';
import { linearRows } from '../ops/linear.js';
import { coAttentionStep } from './co-attention-step.js';
import { concatFeatures, meterHead, meterPooledFeatures } from './head.js';
import { imageEncoder } from './image-encoder.js';
import { textEncoder } from './text-encoder.js';

/**
 * The whole METER on the CPU (docs/meter.md): the text encoder once, then per image pass the image encoder,
 * both transforms plus their token types, the co-attention steps with the schedule applied (`null`:
 * unreduced; `reduceLayers` are step indices) and the poolers; then the task head over the passes' features.
 * NLVR2 runs two passes on the same text, image 1 with token type 1 and image 2 with token type 2, each reduced
 * on its own. Twin of @pumer/onnx's meter/meter.ts.
 */

/** transform(x) + tokenType[row] over rows of `inDim` values: [rows, D]. */
function transformWithType(
  x: Floats,
  rows: number,
  inDim: number,
  w: MeterModel['weights']['textTransform'],
  tokenTypes: Float32Array,
  row: number,
  D: number,
): Float64Array {
  const out = linearRows(x, rows, inDim, w);
  for (let r = 0; r < rows; r++) for (let k = 0; k < D; k++) out[r * D + k] += tokenTypes[row * D + k]!;
  return out;
}

/** One image pass's result: its features [B, 2D] and what every step did. */
interface MeterPass {
  readonly feats: Float64Array;
  readonly steps: LayerTrace[];
}

export function meterForward(
  model: MeterModel,
  inputs: MeterInputs,
  config: ReductionConfig | null,
): MeterOutputs {
  checkMeterModel(model);
  const g = model.geometry;
  const w = model.weights;
  const schedule =
    config === null || config === undefined ? null : validateMeterReductionConfig(config, g.numSteps);
  const { B, T, numImages } = checkMeterInputs(model, inputs, schedule);
  const D = g.hiddenSize;
  const dims = { B, D, numHeads: g.numHeads, eps: g.crossLayerNormEps };
  const encoded = textEncoder(w.textEncoder, g.text, inputs.inputIds, inputs.attentionMask);
  const types = w.tokenTypeEmbeddings.data;
  const text0 = transformWithType(encoded, B * T, g.text.hiddenSize, w.textTransform, types, 0, D);
  const textMask0 = Float64Array.from(inputs.attentionMask.data);
  const S = g.image.imageSize;
  const plane = 3 * S * S;
  const I0 = (S / g.image.patchSize) ** 2 + 1;
  const passes: MeterPass[] = [];
  for (let k = 0; k < numImages; k++) {
    const pixels = new Float32Array(B * plane);
    for (let b = 0; b < B; b++) {
      const from = (b * numImages + k) * plane;
      pixels.set(inputs.pixelValues.data.subarray(from, from + plane), b * plane);
    }
    const vit = imageEncoder(w.imageEncoder, g.image, pixels, B);
    let image: Float64Array = transformWithType(
      vit,
      B * I0,
      g.image.width,
      w.imageTransform,
      types,
      k + 1,
      D,
    );
    let imageMask: Float64Array = new Float64Array(B * I0).fill(1);
    let text: Float64Array = text0;
    let textMask: Float64Array = textMask0;
    let t = T;
    let n = I0;
    const steps: LayerTrace[] = [];
    for (let s = 0; s < g.numSteps; s++) {
      const out = coAttentionStep({
        dims,
        weights: w.steps[s]!,
        plan: planCoAttentionStep(schedule, s, t, n),
        step: s,
        text,
        textMask,
        image,
        imageMask,
      });
      text = out.text;
      textMask = out.textMask;
      image = out.image;
      imageMask = out.imageMask;
      t = out.trace.textOut;
      n = out.trace.imageOut;
      steps.push(out.trace);
    }
    passes.push({ feats: meterPooledFeatures(w, B, D, text, t, image, n), steps });
  }
  const clsFeats = concatFeatures(
    passes.map((p) => p.feats),
    B,
    2 * D,
  );
  const logits = meterHead(w.head, clsFeats);
  const steps = passes[0]!.steps;
  return numImages === 1
    ? { logits, clsFeats, steps }
    : { logits, clsFeats, steps, passes: passes.map((p) => p.steps) };
}
