import type {
  BertAttentionWeights,
  BertFeedForwardWeights,
  BertLayerWeights,
  BlockWeights,
  CoAttentionStepWeights,
  CrossLayerWeights,
  FloatTensor,
  LayerNormWeights,
  LinearWeights,
  MeterGeometry,
  MeterWeights,
  ViltHead,
} from '@pumer/core';
import { floatTensor } from '@pumer/core';
import type { TensorSource } from '@pumer/vilt';
import { METER_NORM_EPS, type MeterConfig } from './config.js';

/**
 * The authors' METER parameter names (docs/meter.md, "Parameter names") mapped onto core's MeterWeights, every
 * shape checked against the geometry. The same names are read from their pytorch_model.bin and from the
 * model.safetensors `convertMeter` writes.
 */

/** Hands out the tensor `name`, which must have exactly `shape` (a TensorSource does this for a checkpoint). */
export type TensorGetter = (name: string, shape: readonly number[]) => FloatTensor;

function linear(get: TensorGetter, prefix: string, out: number, inDim: number, bias = true): LinearWeights {
  return { weight: get(`${prefix}.weight`, [out, inDim]), bias: bias ? get(`${prefix}.bias`, [out]) : null };
}

function norm(get: TensorGetter, prefix: string, dim: number, eps: number): LayerNormWeights {
  return { weight: get(`${prefix}.weight`, [dim]), bias: get(`${prefix}.bias`, [dim]), eps };
}

/** A BERT attention sub-layer at `{prefix}.self.{query,key,value}` and `{prefix}.output.{dense,LayerNorm}`. */
function bertAttention(get: TensorGetter, prefix: string, d: number, eps: number): BertAttentionWeights {
  return {
    query: linear(get, `${prefix}.self.query`, d, d),
    key: linear(get, `${prefix}.self.key`, d, d),
    value: linear(get, `${prefix}.self.value`, d, d),
    output: linear(get, `${prefix}.output.dense`, d, d),
    norm: norm(get, `${prefix}.output.LayerNorm`, d, eps),
  };
}

function bertFeedForward(
  get: TensorGetter,
  prefix: string,
  d: number,
  f: number,
  eps: number,
): BertFeedForwardWeights {
  return {
    intermediate: linear(get, `${prefix}.intermediate.dense`, f, d),
    output: linear(get, `${prefix}.output.dense`, d, f),
    norm: norm(get, `${prefix}.output.LayerNorm`, d, eps),
  };
}

/** Sizes of one co-attention layer. */
export interface CrossLayerSizes {
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly layerNormEps: number;
}

/**
 * One co-attention layer (their BertCrossLayer) under `prefix` (ending in a dot, e.g.
 * `meter.cross_modal_text_layers.0.` or, in the golden files, `cross_modal_text_layers.0.`): `attention.*`,
 * `crossattention.*`, `intermediate.dense`, `output.{dense,LayerNorm}`.
 */
export function crossLayerWeightsFromState(
  prefix: string,
  get: TensorGetter,
  sizes: CrossLayerSizes,
): CrossLayerWeights {
  const { hiddenSize: d, intermediateSize: f, layerNormEps: eps } = sizes;
  return {
    attention: bertAttention(get, `${prefix}attention`, d, eps),
    crossAttention: bertAttention(get, `${prefix}crossattention`, d, eps),
    feedForward: bertFeedForward(get, prefix.replace(/\.$/, ''), d, f, eps),
  };
}

/**
 * Co-attention step `step`: `{root}cross_modal_text_layers.{step}.` and `{root}cross_modal_image_layers.{step}.`
 * (`root` = `meter.` in checkpoints, empty in the golden files).
 */
export function coAttentionStepWeightsFromState(
  root: string,
  step: number,
  get: TensorGetter,
  sizes: CrossLayerSizes,
): CoAttentionStepWeights {
  return {
    text: crossLayerWeightsFromState(`${root}cross_modal_text_layers.${step}.`, get, sizes),
    image: crossLayerWeightsFromState(`${root}cross_modal_image_layers.${step}.`, get, sizes),
  };
}

/** Rows [from, to) of a 2-D weight, or elements [from, to) of a bias: a view, no copy. */
function rows(t: FloatTensor, from: number, to: number): FloatTensor {
  const width = t.shape.length === 2 ? t.shape[1] : 1;
  const shape = t.shape.length === 2 ? [to - from, width] : [to - from];
  return floatTensor(t.data.subarray(from * width, to * width), shape);
}

/** A CLIP residual block: `attn.in_proj_{weight,bias}` rows are [q; k; v]; MLP width 4·W. */
function clipBlock(get: TensorGetter, prefix: string, w: number, eps: number): BlockWeights {
  const inW = get(`${prefix}.attn.in_proj_weight`, [3 * w, w]);
  const inB = get(`${prefix}.attn.in_proj_bias`, [3 * w]);
  const part = (k: number): LinearWeights => ({
    weight: rows(inW, k * w, (k + 1) * w),
    bias: rows(inB, k * w, (k + 1) * w),
  });
  return {
    norm1: norm(get, `${prefix}.ln_1`, w, eps),
    query: part(0),
    key: part(1),
    value: part(2),
    proj: linear(get, `${prefix}.attn.out_proj`, w, w),
    norm2: norm(get, `${prefix}.ln_2`, w, eps),
    fc1: linear(get, `${prefix}.mlp.c_fc`, 4 * w, w),
    fc2: linear(get, `${prefix}.mlp.c_proj`, w, 4 * w),
  };
}

/**
 * The head: a classifier `{prefix}.0` Linear(2D·numImages, 2D) -> `.1` LayerNorm(2D, eps 1e-5) -> GELU -> `.3`
 * Linear(2D, numLabels), or rank_output Linear(2D, 1) on cls_feats.
 */
function meterHead(get: TensorGetter, config: MeterConfig): ViltHead {
  const g = config.geometry;
  const two = 2 * g.hiddenSize;
  if (config.task === 'retrieval') return { kind: 'rank', rank: linear(get, config.headPrefix, 1, two) };
  const p = config.headPrefix;
  return {
    kind: 'classifier',
    fc1: linear(get, `${p}.0`, two, two * g.numImages),
    norm: norm(get, `${p}.1`, two, METER_NORM_EPS.classifier),
    fc2: linear(get, `${p}.3`, g.numLabels, two),
  };
}

/**
 * Tensors their checkpoints carry that the model does not read: RoBERTa's `position_ids` buffer, the text
 * encoder's pooler (METER pools with its own cross-modal poolers) and `itm_score.*`, the image-text matching
 * head their retrieval class trains with.
 */
export const METER_IGNORED_TENSORS: readonly RegExp[] = [
  /^meter\.text_transformer\.embeddings\.position_ids$/,
  /^meter\.text_transformer\.pooler\./,
  /^itm_score\./,
];

/** Every weight of the model under the authors' names, checked against `config`; reads through `src`. */
export function meterWeightsFromTensors(src: TensorSource, config: MeterConfig): MeterWeights {
  const g: MeterGeometry = config.geometry;
  const get: TensorGetter = (name, shape) => src.get(name, shape);
  const t = g.text;
  const dt = t.hiddenSize;
  const te = 'meter.text_transformer';
  const layers: BertLayerWeights[] = [];
  for (let l = 0; l < t.numLayers; l++) {
    const p = `${te}.encoder.layer.${l}`;
    layers.push({
      attention: bertAttention(get, `${p}.attention`, dt, t.layerNormEps),
      feedForward: bertFeedForward(get, p, dt, t.intermediateSize, t.layerNormEps),
    });
  }
  const im = g.image;
  const w = im.width;
  const grid = im.imageSize / im.patchSize;
  const v = 'meter.vit_model';
  const blocks: BlockWeights[] = [];
  for (let i = 0; i < im.numBlocks; i++)
    blocks.push(clipBlock(get, `${v}.transformer.resblocks.${i}`, w, im.layerNormEps));
  const d = g.hiddenSize;
  const sizes = { hiddenSize: d, intermediateSize: g.intermediateSize, layerNormEps: g.crossLayerNormEps };
  const steps: CoAttentionStepWeights[] = [];
  for (let s = 0; s < g.numSteps; s++) steps.push(coAttentionStepWeightsFromState('meter.', s, get, sizes));
  // RoBERTa's type table may have more rows; the text encoder reads row 0 only.
  const textTypes = get(`${te}.embeddings.token_type_embeddings.weight`, [config.textTypeVocabSize, dt]);
  return {
    textEncoder: {
      wordEmbeddings: get(`${te}.embeddings.word_embeddings.weight`, [t.vocabSize, dt]),
      positionEmbeddings: get(`${te}.embeddings.position_embeddings.weight`, [t.maxPositions, dt]),
      tokenTypeEmbeddings: rows(textTypes, 0, 1),
      embeddingNorm: norm(get, `${te}.embeddings.LayerNorm`, dt, t.layerNormEps),
      layers,
    },
    imageEncoder: {
      classEmbedding: get(`${v}.class_embedding`, [w]),
      positionEmbeddings: get(`${v}.positional_embedding`, [grid * grid + 1, w]),
      patchProjection: get(`${v}.conv1.weight`, [w, 3, im.patchSize, im.patchSize]),
      preNorm: norm(get, `${v}.ln_pre`, w, im.layerNormEps),
      blocks,
      postNorm: norm(get, `${v}.ln_post`, w, im.layerNormEps),
    },
    textTransform: linear(get, 'meter.cross_modal_text_transform', d, dt),
    imageTransform: linear(get, 'meter.cross_modal_image_transform', d, w),
    tokenTypeEmbeddings: get('meter.token_type_embeddings.weight', [config.tokenTypes, d]),
    steps,
    textPooler: linear(get, 'meter.cross_modal_text_pooler.dense', d, d),
    imagePooler: linear(get, 'meter.cross_modal_image_pooler.dense', d, d),
    head: meterHead(get, config),
  };
}
