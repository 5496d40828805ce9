import type { ReductionConfig } from '../config.js';
import { validateMeterReductionConfig, validateReductionConfig } from '../config.js';
import type { BlockArgs, MergeArgs, SaliencyInputs } from '../contracts.js';
import { PumerError, ShapeError } from '../errors.js';
import type {
  BertAttentionWeights,
  CoAttentionStepArgs,
  CrossLayerWeights,
  MeterInputs,
  MeterModel,
} from '../meter.js';
import type { BlockWeights, LayerNormWeights, LinearWeights } from '../model.js';
import {
  expectFinite,
  expectShape,
  type FloatTensor,
  floatTensor,
  type IntTensor,
  intTensor,
} from '../tensor.js';
import {
  clampMergeR,
  MERGE_STYLE_RULES,
  MERGE_STYLES,
  type MergeDecision,
  protectsFirst,
  unmergedOrder,
} from './merge-styles.js';
import { type CoAttentionPlan, planCoAttentionStep } from './co-attention-plan.js';
import { planLayer } from './layer-plan.js';
import { findSaliencyMethod, SALIENCY_RULES, type SaliencyRule } from './saliency-methods.js';

/**
 * The argument checks every backend runs before it computes anything, so the same bad input gets the same
 * PumerError (code and message) on cpu, node and webgpu. Codes: a missing input, a bad count, an unknown
 * method or a non-finite value is VALUE; a wrong dtype, rank or size is SHAPE.
 */

/** A float32 tensor of the given shape (null: any size) with finite values. */
export function checkFloat(
  name: string,
  t: FloatTensor | undefined | null,
  shape: readonly (number | null)[],
): void {
  if (t === undefined || t === null) throw new PumerError('VALUE', `${name} is required`);
  if (typeof t !== 'object' || t.dtype !== 'float32' || !(t.data instanceof Float32Array)) {
    throw new ShapeError(
      `${name} must be a float32 tensor, got dtype ${String((t as { dtype?: unknown }).dtype)}`,
    );
  }
  expectShape(name, t, shape);
  expectFinite(name, t);
}

/** An integer in [min, max]. */
export function checkInteger(name: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new PumerError('VALUE', `${name} must be an integer, got ${String(v)}`);
  }
  if (v < min || v > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new PumerError('VALUE', `${name} must be ${range}, got ${v}`);
  }
  return v;
}

function checkObject(what: string, v: unknown): void {
  if (v === null || typeof v !== 'object') throw new PumerError('VALUE', `${what} must be an object`);
}

/** What a checked saliency call reads: the method's rule and the sizes. */
export interface CheckedSaliency {
  readonly rule: SaliencyRule;
  readonly B: number;
  /** Tokens (text first, then image). */
  readonly N: number;
  /** Text tokens. */
  readonly T: number;
  /** Heads of `attn` (attention methods). */
  readonly H: number | null;
  /** Width of kbar / qbar (key methods). */
  readonly C: number | null;
}

/** Checks a Pruner.saliency call. Aliases of a method are accepted. */
export function checkSaliencyArgs(method: unknown, inputs: SaliencyInputs): CheckedSaliency {
  const found = findSaliencyMethod(method);
  if (found === undefined) {
    const names = Object.values(SALIENCY_RULES).map((r) => r.method);
    throw new PumerError(
      'VALUE',
      `unknown saliency method ${String(method)} (expected one of ${names.join(', ')})`,
    );
  }
  const rule = SALIENCY_RULES[found];
  checkObject('saliency inputs', inputs);
  checkFloat('textMask', inputs.textMask, [null, null]);
  const [B, T] = inputs.textMask.shape as [number, number];
  let N: number;
  let H: number | null = null;
  let C: number | null = null;
  if (rule.source === 'attention') {
    checkFloat(`attn (needed by ${rule.method})`, inputs.attn, [B, null, null, null]);
    const attn = inputs.attn as FloatTensor;
    N = attn.shape[2]!;
    H = attn.shape[1]!;
    checkFloat('attn', attn, [B, H, N, N]);
  } else {
    checkFloat(`kbar (needed by ${rule.method})`, inputs.kbar, [B, null, null]);
    const kbar = inputs.kbar as FloatTensor;
    N = kbar.shape[1]!;
    C = kbar.shape[2]!;
    if (rule.textSide === 'queries') checkFloat(`qbar (needed by ${rule.method})`, inputs.qbar, [B, N, C]);
  }
  if (!(T >= 1 && T < N)) {
    throw new PumerError(
      'VALUE',
      `text mask covers ${T} tokens of ${N}: need 1 <= T < N (text first, then image tokens)`,
    );
  }
  checkTextMaskRows(inputs.textMask.data, B, T, T);
  return { rule, B, N, T, H, C };
}

/**
 * Every saliency score is divided by its example's text-mask sum (docs/reducers.md, "Text saliency"), so each
 * example needs mask weight on its text rows: the first T columns of a [B, width] mask.
 */
export function checkTextMaskRows(mask: ArrayLike<number>, B: number, width: number, T: number): void {
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let t = 0; t < T; t++) s += mask[b * width + t]!;
    if (!(s > 0)) {
      throw new PumerError(
        'VALUE',
        `text mask of example ${b} sums to ${s}: saliency needs at least one text token`,
      );
    }
  }
}

/** Checks a Pruner.prune call; returns the sizes. */
export function checkPruneArgs(scores: FloatTensor, keep: unknown): { B: number; I: number; keep: number } {
  checkFloat('scores', scores, [null, null]);
  const [B, I] = scores.shape as [number, number];
  return { B, I, keep: checkInteger('keep', keep, I === 0 ? 0 : 1, I) };
}

/** What a checked merge does: the style's decision (r clamped to its limit) and the sizes. */
export interface CheckedMerge extends MergeDecision {
  readonly B: number;
  readonly n: number;
  readonly D: number;
  /** Metric width (styles that read a metric). */
  readonly C: number | null;
}

/** Checks a Merger.merge call against what its style reads. */
export function checkMergeArgs(args: MergeArgs): CheckedMerge {
  checkObject('merge arguments', args);
  const style = args.style;
  if (typeof style !== 'string' || !Object.hasOwn(MERGE_STYLE_RULES, style)) {
    throw new PumerError(
      'VALUE',
      `unknown merge style ${String(style)} (expected one of ${MERGE_STYLES.join(', ')})`,
    );
  }
  const rule = MERGE_STYLE_RULES[style as keyof typeof MERGE_STYLE_RULES];
  checkFloat('x', args.x, [null, null, null]);
  const [B, n, D] = args.x.shape as [number, number, number];
  checkInteger('r', args.r, 0);
  let C: number | null = null;
  if (rule.reads.metric) {
    if (!args.metric) throw new PumerError('VALUE', `${style} merge needs a metric [B, n, C]`);
    checkFloat('metric', args.metric, [B, n, null]);
    C = args.metric.shape[2]!;
  }
  if (rule.reads.saliency) {
    if (!args.saliency) throw new PumerError('VALUE', `${style} merge needs a saliency [B, n]`);
    checkFloat('saliency', args.saliency, [B, n]);
  }
  if (rule.reads.size && args.size !== undefined && args.size !== null) {
    checkFloat('size', args.size, [B, n, 1]);
    const s = args.size.data;
    for (let i = 0; i < s.length; i++) {
      if (!(s[i]! > 0))
        throw new PumerError('VALUE', `size must be positive, got ${s[i]} at flat index ${i}`);
    }
  }
  if (args.protectFirst !== undefined && typeof args.protectFirst !== 'boolean') {
    throw new PumerError('VALUE', `protectFirst must be a boolean, got ${String(args.protectFirst)}`);
  }
  const protect = protectsFirst(rule, args.protectFirst);
  return {
    rule,
    B,
    n,
    D,
    C,
    r: clampMergeR(args.r, n, protect),
    protectFirst: protect,
    unmergedOrder: unmergedOrder(protect),
  };
}

function checkLayerNorm(name: string, w: LayerNormWeights, D: number): void {
  checkObject(name, w);
  checkFloat(`${name}.weight`, w.weight, [D]);
  checkFloat(`${name}.bias`, w.bias, [D]);
  if (typeof w.eps !== 'number' || !(w.eps > 0) || !Number.isFinite(w.eps)) {
    throw new PumerError('VALUE', `${name}.eps must be a positive number, got ${String(w.eps)}`);
  }
}

function checkLinear(name: string, w: LinearWeights, inDim: number, outDim: number | null): number {
  checkObject(name, w);
  checkFloat(`${name}.weight`, w.weight, [outDim, inDim]);
  const out = w.weight.shape[0]!;
  if (w.bias !== null && w.bias !== undefined) checkFloat(`${name}.bias`, w.bias, [out]);
  return out;
}

/** Checks the weights of one block of width D with `numHeads` heads; returns the MLP width. */
export function checkBlockWeights(w: BlockWeights, D: number, numHeads: unknown): number {
  checkObject('block weights', w);
  const H = checkInteger('numHeads', numHeads, 1);
  if (D % H !== 0) throw new ShapeError(`numHeads ${H} must divide the hidden size ${D}`);
  checkLayerNorm('norm1', w.norm1, D);
  for (const name of ['query', 'key', 'value', 'proj'] as const) checkLinear(name, w[name], D, D);
  checkLayerNorm('norm2', w.norm2, D);
  const M = checkLinear('fc1', w.fc1, D, null);
  checkLinear('fc2', w.fc2, M, D);
  return M;
}

/** What a checked block call runs on. */
export interface CheckedBlock {
  readonly B: number;
  readonly N: number;
  readonly D: number;
  /** MLP width. */
  readonly M: number;
  readonly numHeads: number;
  readonly textLen: number;
  readonly layer: number;
  /** Validated schedule, or null (no reduction). */
  readonly config: ReductionConfig | null;
}

/** Checks a Backend.runBlock call: states, mask, text length, layer, weights and schedule. */
export function checkBlockArgs(args: BlockArgs): CheckedBlock {
  checkObject('block arguments', args);
  checkFloat('x', args.x, [null, null, null]);
  const [B, N, D] = args.x.shape as [number, number, number];
  checkFloat('mask', args.mask, [B, N]);
  // A ViLT block always sees text tokens first, then at least one image token.
  const textLen = checkInteger('textLen', args.textLen, 1, N - 1);
  const layer = checkInteger('layer', args.layer, 0);
  const M = checkBlockWeights(args.weights, D, args.numHeads);
  const config =
    args.config === null || args.config === undefined ? null : validateReductionConfig(args.config);
  // A PuMer reduce layer scores image tokens by text saliency: its text rows must carry mask weight.
  if (planLayer(config, layer, textLen, N - textLen).kind === 'pumer') {
    checkTextMaskRows(args.mask.data, B, N, textLen);
  }
  return { B, N, D, M, numHeads: args.numHeads, textLen, layer, config };
}

/** One image's valid patch grid: the top-left `h` x `w` patches of the batch's grid that its pixel mask covers. */
export interface ValidPatchGrid {
  readonly h: number;
  readonly w: number;
}

/** The image side of a checked batch: the padded patch grid and what each image covers of it. */
export interface CheckedImageGrids {
  readonly gridH: number;
  readonly gridW: number;
  /** Per image. */
  readonly valid: readonly ValidPatchGrid[];
  /**
   * Patch tokens per image: the largest valid count of the batch (Hugging Face's `max_image_length` -1), so
   * every image keeps all its patches and smaller ones are filled with padding tokens of mask 0.
   */
  readonly patches: number;
  /** Some image covers less than the whole grid (without a mask, or with an all-ones one: false). */
  readonly padded: boolean;
}

/**
 * Checks `pixelValues` [B, C, H, W] (H and W positive multiples of the patch) and the optional `pixelMask`
 * [B, H, W] int32 0/1, and reads each image's valid patch grid as Hugging Face's ViltEmbeddings.visual_embed
 * does: the mask is sampled at each patch's top-left pixel (nearest interpolation to the patch grid), the
 * valid height is the count down the first column and the width the count along the first row. The sampled
 * mask must be exactly that top-left rectangle, non-empty (what ViltImageProcessor's padding gives): the
 * reference interpolates positions to the rectangle, so any other shape has no defined meaning.
 */
export function checkImageGrids(
  pixelValues: FloatTensor,
  pixelMask: IntTensor | undefined | null,
  patchSize: number,
): CheckedImageGrids {
  expectShape('pixelValues', pixelValues, [null, null, null, null]);
  const [B, , H, W] = pixelValues.shape as [number, number, number, number];
  const p = patchSize;
  if (H % p !== 0 || W % p !== 0 || H === 0 || W === 0) {
    throw new ShapeError(
      `pixelValues is ${H}x${W}; both sides must be positive multiples of the patch size ${p}`,
    );
  }
  const gridH = H / p;
  const gridW = W / p;
  const full: ValidPatchGrid = { h: gridH, w: gridW };
  if (pixelMask === undefined || pixelMask === null) {
    return { gridH, gridW, valid: Array(B).fill(full), patches: gridH * gridW, padded: false };
  }
  if (
    typeof pixelMask !== 'object' ||
    pixelMask.dtype !== 'int32' ||
    !(pixelMask.data instanceof Int32Array)
  ) {
    throw new ShapeError(
      `pixelMask must be an int32 tensor, got dtype ${String((pixelMask as { dtype?: unknown }).dtype)}`,
    );
  }
  expectShape('pixelMask', pixelMask, [B, H, W]);
  const m = pixelMask.data;
  for (let i = 0; i < m.length; i++) {
    if (m[i] !== 0 && m[i] !== 1) {
      const b = Math.floor(i / (H * W));
      const y = Math.floor((i % (H * W)) / W);
      throw new PumerError('VALUE', `pixelMask[${b}, ${y}, ${i % W}] = ${m[i]}; it must be 0 or 1`);
    }
  }
  const valid: ValidPatchGrid[] = [];
  for (let b = 0; b < B; b++) {
    const at = (py: number, px: number) => m[b * H * W + py * p * W + px * p];
    let h = 0;
    for (let py = 0; py < gridH; py++) h += at(py, 0);
    let w = 0;
    for (let px = 0; px < gridW; px++) w += at(0, px);
    for (let py = 0; py < gridH; py++) {
      for (let px = 0; px < gridW; px++) {
        if (at(py, px) !== (py < h && px < w ? 1 : 0) || h === 0) {
          throw new PumerError(
            'VALUE',
            `pixelMask[${b}] must cover a non-empty top-left rectangle of patches (sampled at each patch's top-left pixel); patch (${py}, ${px}) breaks it`,
          );
        }
      }
    }
    valid.push({ h, w });
  }
  const patches = Math.max(...valid.map((v) => v.h * v.w));
  const padded = valid.some((v) => v.h !== gridH || v.w !== gridW);
  return { gridH, gridW, valid, patches, padded };
}

/** One image of every example, as a single-image batch, with its checked patch grids. */
export interface CheckedImagePass {
  readonly pixelValues: FloatTensor; // [B, C, H, W]
  readonly pixelMask?: IntTensor; // [B, H, W]
  readonly grids: CheckedImageGrids;
}

/**
 * Checks the image side of a batch for a model with `numImages` images per example and splits it into one
 * single-image batch per image (NLVR2 runs one pass per image). numImages 1: `pixelValues` [B, C, H, W] and
 * `pixelMask` [B, H, W], returned as they are; numImages 2: [B, 2, C, H, W] and [B, 2, H, W]. Each image is
 * then checked as `checkImageGrids` checks it.
 */
export function checkImagePasses(
  pixelValues: FloatTensor,
  pixelMask: IntTensor | undefined | null,
  patchSize: number,
  numImages: number,
): CheckedImagePass[] {
  if (!Number.isInteger(numImages) || numImages < 1) {
    throw new PumerError('VALUE', `numImages must be a positive integer, got ${numImages}`);
  }
  if (numImages === 1) {
    const grids = checkImageGrids(pixelValues, pixelMask, patchSize);
    return [{ pixelValues, ...(pixelMask ? { pixelMask } : {}), grids }];
  }
  expectShape('pixelValues', pixelValues, [null, numImages, null, null, null]);
  const [B, , C, H, W] = pixelValues.shape as [number, number, number, number, number];
  if (pixelMask !== undefined && pixelMask !== null) {
    if (
      typeof pixelMask !== 'object' ||
      pixelMask.dtype !== 'int32' ||
      !(pixelMask.data instanceof Int32Array)
    ) {
      throw new ShapeError(
        `pixelMask must be an int32 tensor, got dtype ${String((pixelMask as { dtype?: unknown }).dtype)}`,
      );
    }
    expectShape('pixelMask', pixelMask, [B, numImages, H, W]);
  }
  const passes: CheckedImagePass[] = [];
  for (let i = 0; i < numImages; i++) {
    const pixels = new Float32Array(B * C * H * W);
    const plane = C * H * W;
    for (let b = 0; b < B; b++) {
      const from = (b * numImages + i) * plane;
      pixels.set(pixelValues.data.subarray(from, from + plane), b * plane);
    }
    const values = floatTensor(pixels, [B, C, H, W]);
    let mask: IntTensor | undefined;
    if (pixelMask) {
      const m = new Int32Array(B * H * W);
      for (let b = 0; b < B; b++) {
        const from = (b * numImages + i) * H * W;
        m.set(pixelMask.data.subarray(from, from + H * W), b * H * W);
      }
      mask = intTensor(m, [B, H, W]);
    }
    try {
      passes.push({
        pixelValues: values,
        ...(mask ? { pixelMask: mask } : {}),
        grids: checkImageGrids(values, mask, patchSize),
      });
    } catch (e) {
      // Name the image so an NLVR2 caller knows which of the pair is wrong.
      if (e instanceof ShapeError) throw new ShapeError(`image ${i}: ${e.message}`);
      if (e instanceof PumerError) throw new PumerError(e.code, `image ${i}: ${e.message}`);
      throw e;
    }
  }
  return passes;
}

function checkBertAttention(name: string, w: BertAttentionWeights, D: number): void {
  checkObject(name, w);
  for (const part of ['query', 'key', 'value', 'output'] as const)
    checkLinear(`${name}.${part}`, w[part], D, D);
  checkLayerNorm(`${name}.norm`, w.norm, D);
}

/** Checks one METER co-attention layer of width D; returns its feed-forward width. */
export function checkCrossLayerWeights(name: string, w: CrossLayerWeights, D: number): number {
  checkObject(name, w);
  checkBertAttention(`${name}.attention`, w.attention, D);
  checkBertAttention(`${name}.crossAttention`, w.crossAttention, D);
  checkObject(`${name}.feedForward`, w.feedForward);
  const F = checkLinear(`${name}.feedForward.intermediate`, w.feedForward.intermediate, D, null);
  checkLinear(`${name}.feedForward.output`, w.feedForward.output, F, D);
  checkLayerNorm(`${name}.feedForward.norm`, w.feedForward.norm, D);
  return F;
}

/** What a checked co-attention step runs on, with its plan (core's `planCoAttentionStep`). */
export interface CheckedCoAttentionStep {
  readonly B: number;
  readonly T: number;
  readonly I: number;
  readonly D: number;
  readonly numHeads: number;
  readonly layerNormEps: number;
  readonly step: number;
  /** Validated schedule (step indices), or null. */
  readonly config: ReductionConfig | null;
  readonly plan: CoAttentionPlan;
}

/**
 * Checks a Backend.runCoAttentionStep call (docs/meter.md, "One co-attention step"): both streams and their
 * masks, heads, eps, step, both layers' weights and the schedule. A reducing step divides by each example's
 * text-mask sum, so its text rows must carry mask weight.
 */
export function checkCoAttentionStepArgs(args: CoAttentionStepArgs): CheckedCoAttentionStep {
  checkObject('co-attention step arguments', args);
  checkFloat('text', args.text, [null, null, null]);
  const [B, T, D] = args.text.shape as [number, number, number];
  checkFloat('textMask', args.textMask, [B, T]);
  checkFloat('image', args.image, [B, null, D]);
  const I = args.image.shape[1]!;
  checkFloat('imageMask', args.imageMask, [B, I]);
  if (T < 1 || I < 1)
    throw new ShapeError(`a co-attention step needs text and image tokens, got T ${T}, I ${I}`);
  const numHeads = checkInteger('numHeads', args.numHeads, 1);
  if (D % numHeads !== 0) throw new ShapeError(`numHeads ${numHeads} must divide the hidden size ${D}`);
  const eps = args.layerNormEps;
  if (typeof eps !== 'number' || !(eps > 0) || !Number.isFinite(eps)) {
    throw new PumerError('VALUE', `layerNormEps must be a positive number, got ${String(eps)}`);
  }
  const step = checkInteger('step', args.step, 0);
  checkObject('weights', args.weights);
  checkCrossLayerWeights('weights.text', args.weights.text, D);
  checkCrossLayerWeights('weights.image', args.weights.image, D);
  const config =
    args.config === null || args.config === undefined ? null : validateMeterReductionConfig(args.config);
  const plan = planCoAttentionStep(config, step, T, I);
  if (plan.kind === 'pumer') checkTextMaskRows(args.textMask.data, B, T, T);
  return { B, T, I, D, numHeads, layerNormEps: eps, step, config, plan };
}

function checkIntTensor(name: string, t: unknown, shape: readonly (number | null)[]): void {
  if (t === undefined || t === null) throw new PumerError('VALUE', `${name} is required`);
  const v = t as { dtype?: unknown; data?: unknown };
  if (typeof t !== 'object' || v.dtype !== 'int32' || !(v.data instanceof Int32Array)) {
    throw new ShapeError(`${name} must be an int32 tensor, got dtype ${String(v.dtype)}`);
  }
  expectShape(name, t as IntTensor, shape);
}

/**
 * Checks a METER model's structure against its geometry: layer, block and step counts, the widths the
 * encoders hand to the co-attention layers, the token-type rows its images need, and every co-attention
 * layer's weights. Encoder weights are read as the loader built them.
 */
export function checkMeterModel(model: MeterModel): void {
  checkObject('model', model);
  if (model.kind !== 'meter')
    throw new PumerError('VALUE', `model.kind must be "meter", got ${String(model.kind)}`);
  const g = model.geometry;
  const w = model.weights;
  checkObject('model.geometry', g);
  checkObject('model.weights', w);
  const D = g.hiddenSize;
  const count = (what: string, got: number, want: number) => {
    if (got !== want) throw new ShapeError(`model has ${got} ${what} but its geometry says ${want}`);
  };
  count('text encoder layers', w.textEncoder.layers.length, g.text.numLayers);
  count('image encoder blocks', w.imageEncoder.blocks.length, g.image.numBlocks);
  count('co-attention steps', w.steps.length, g.numSteps);
  const { imageSize: S, patchSize: p, width: W } = g.image;
  if (!(Number.isInteger(S / p) && S > 0)) {
    throw new ShapeError(`image size ${S} is not a positive multiple of the patch size ${p}`);
  }
  checkFloat('imageEncoder.patchProjection', w.imageEncoder.patchProjection, [W, 3, p, p]);
  checkFloat('imageEncoder.positionEmbeddings', w.imageEncoder.positionEmbeddings, [(S / p) ** 2 + 1, W]);
  checkFloat('imageEncoder.classEmbedding', w.imageEncoder.classEmbedding, [W]);
  const Dt = g.text.hiddenSize;
  checkFloat('textEncoder.wordEmbeddings', w.textEncoder.wordEmbeddings, [g.text.vocabSize, Dt]);
  checkFloat('textEncoder.positionEmbeddings', w.textEncoder.positionEmbeddings, [g.text.maxPositions, Dt]);
  checkLinear('textTransform', w.textTransform, Dt, D);
  checkLinear('imageTransform', w.imageTransform, W, D);
  checkFloat('tokenTypeEmbeddings', w.tokenTypeEmbeddings, [null, D]);
  if (w.tokenTypeEmbeddings.shape[0]! < g.numImages + 1) {
    throw new ShapeError(
      `model has ${w.tokenTypeEmbeddings.shape[0]} token types, but ${g.numImages} image(s) need ${g.numImages + 1}`,
    );
  }
  if (D % g.numHeads !== 0) throw new ShapeError(`numHeads ${g.numHeads} must divide the hidden size ${D}`);
  w.steps.forEach((s, i) => {
    checkCrossLayerWeights(`steps[${i}].text`, s.text, D);
    checkCrossLayerWeights(`steps[${i}].image`, s.image, D);
  });
  checkLinear('textPooler', w.textPooler, D, D);
  checkLinear('imagePooler', w.imagePooler, D, D);
}

/** What a checked METER batch holds. */
export interface CheckedMeterInputs {
  readonly B: number;
  /** Text tokens per row, padding included. */
  readonly T: number;
  readonly numImages: number;
}

/**
 * Checks a METER batch against its model: ids and mask [B, T] (T within the text window and the position
 * table, ids within the vocabulary, mask 0/1), pixels [B, 3, S, S] (or [B, 2, 3, S, S] for two images) at
 * the model's image size and finite. With a schedule, each row needs a text token (saliency divides by the
 * text-mask sum).
 */
export function checkMeterInputs(
  model: MeterModel,
  inputs: MeterInputs,
  config: ReductionConfig | null,
): CheckedMeterInputs {
  checkObject('inputs', inputs);
  const g = model.geometry;
  checkIntTensor('inputIds', inputs.inputIds, [null, null]);
  const [B, T] = inputs.inputIds.shape as [number, number];
  checkIntTensor('attentionMask', inputs.attentionMask, [B, T]);
  if (T < 1) throw new ShapeError('inputIds has no tokens');
  if (T > g.maxTextLength) {
    throw new ShapeError(`inputIds has ${T} tokens, more than the model's text window of ${g.maxTextLength}`);
  }
  // RoBERTa's largest position id is T + padTokenId (every token non-pad).
  if (T + g.text.padTokenId >= g.text.maxPositions) {
    throw new ShapeError(
      `inputIds has ${T} tokens; the text encoder's ${g.text.maxPositions} positions hold at most ${g.text.maxPositions - g.text.padTokenId - 1}`,
    );
  }
  const ids = inputs.inputIds.data;
  const mask = inputs.attentionMask.data;
  for (let i = 0; i < ids.length; i++) {
    if (!(ids[i]! >= 0 && ids[i]! < g.text.vocabSize)) {
      throw new PumerError(
        'VALUE',
        `inputIds[${Math.floor(i / T)}, ${i % T}] = ${ids[i]} is outside the vocabulary [0, ${g.text.vocabSize})`,
      );
    }
    if (mask[i] !== 0 && mask[i] !== 1) {
      throw new PumerError(
        'VALUE',
        `attentionMask[${Math.floor(i / T)}, ${i % T}] = ${mask[i]}; it must be 0 or 1`,
      );
    }
  }
  const S = g.image.imageSize;
  const pixelShape = g.numImages === 1 ? [B, 3, S, S] : [B, g.numImages, 3, S, S];
  checkFloat('pixelValues', inputs.pixelValues, pixelShape);
  if (config !== null && config.reduceLayers.length > 0) checkTextMaskRows(mask, B, T, T);
  return { B, T, numImages: g.numImages };
}
