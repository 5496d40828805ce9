import {
  type FloatTensor,
  floatTensor,
  type LinearWeights,
  PumerError,
  type ReductionConfig,
  reductionConfigFromReference,
  validateReductionConfig,
  type ViltGeometry,
  type ViltTask,
} from '@pumer/core';
import {
  configArchitecture,
  fieldError,
  optionalPositiveInt,
  VQA_ARCHITECTURE,
  type ViltConfig,
} from '../config.js';
import { AUTHORS_VQA_LABEL_FILE } from '../labels.js';
import { type ImageProcessorConfig, VILT_PROCESSOR_DEFAULTS } from '../preprocessor.js';
import { RESAMPLE } from '../resize.js';
import { TASK_LABELS } from '../heads.js';
import { modalityRows, type TensorSource, type ViltBackboneWeights } from '../weights.js';
import type { LayoutReader } from './layout.js';
import { describeValue } from '../json-value.js';

/**
 * The layout of the PuMer authors' released checkpoints (csarron/vilt-vqa2-ft, csarron/vilt-vqa2-p0.1-r0.3-
 * t0.2-258, ...): config.json written by their own ViltConfig (`num_layers`, `num_heads`, `max_text_len`,
 * `vit`, `token_types`, `vqa_label_size`, the schedule as `reduce_layers` / `prune_r` / `merge_r` /
 * `merge_text` / `sim_method` / `merge_style`), and the state_dict of their classes: BERT text embeddings
 * under `vilt.text_embeddings.*`, a timm ViT under `vilt.transformer.*` with a fused `qkv`, heads such as
 * `vqa_classifier.*`, `ve_classifier.*`, `nlvr2_classifier.*`, `rank_output.*`. Mapped here onto the same ViltConfig and core ViltWeights as a Hugging Face checkpoint.
 */

/**
 * Their classes: the task each serves, where its head is (`{prefix}.{0,1,3}`, or `rank_output`), and its
 * padded text window (their task configs: 32 for VQA, else 40). Their retrieval task is named `irtr`.
 */
export const AUTHORS_ARCHITECTURES: Readonly<
  Record<string, { readonly task: ViltTask; readonly headPrefix: string; readonly textWindow: number }>
> = {
  [VQA_ARCHITECTURE]: { task: 'vqa', headPrefix: 'vqa_classifier', textWindow: 32 },
  ViltForVisualEntailment: { task: 've', headPrefix: 've_classifier', textWindow: 40 },
  ViltForVisualReasoning: { task: 'nlvr2', headPrefix: 'nlvr2_classifier', textWindow: 40 },
  ViltForImageAndTextRetrieval: { task: 'retrieval', headPrefix: 'rank_output', textWindow: 40 },
};

/**
 * LayerNorm epsilons of their modules (config.json has none): BERT's for the text embeddings, timm's ViT
 * blocks and final norm built with 1e-6, PyTorch's default in the heads.
 */
export const AUTHORS_NORM_EPS = Object.freeze({ text: 1e-12, blocks: 1e-6, classifier: 1e-5 });

/** Their ViltConfig's defaults, for fields a config.json leaves out. */
const AUTHORS_DEFAULTS = Object.freeze({
  hidden_size: 768,
  num_heads: 12,
  num_layers: 12,
  vocab_size: 30522,
  max_text_len: 40,
  token_types: 2,
  vqa_label_size: 3129,
  vit: 'vit_base_patch32_384',
  sim_method: 'mean_head',
  merge_style: 'tome',
});

/** Rows of the BERT text token-type table (their BertConfig keeps BERT's type_vocab_size). */
const TEXT_TYPE_VOCAB_SIZE = 2;

/**
 * Their images at evaluation (`get_image_transforms(384, use_randaug=False, is_clip=False)`): PIL RGB,
 * `Resize([384, 384], BILINEAR)` (both sides, aspect ratio not kept), ToTensor, Normalize(0.5, 0.5).
 */
export function authorsImageTransform(imageSize: number): ImageProcessorConfig {
  return {
    ...VILT_PROCESSOR_DEFAULTS,
    shortestEdge: imageSize,
    resample: RESAMPLE.bilinear,
    doPad: false,
    fixedSize: { height: imageSize, width: imageSize },
  };
}

/** Patch and image size from a timm model name such as `vit_base_patch32_384`. */
function vitSizes(vit: unknown, source: string): { patchSize: number; imageSize: number } {
  const m = typeof vit === 'string' ? /_patch(\d+)_(\d+)$/.exec(vit) : null;
  if (!m) {
    throw fieldError(
      source,
      'vit',
      `must be a timm ViT name ending in _patch<P>_<S> (e.g. "vit_base_patch32_384"), got ${describeValue(vit)}`,
    );
  }
  const patchSize = Number(m[1]);
  const imageSize = Number(m[2]);
  if (patchSize < 1 || imageSize % patchSize !== 0)
    throw fieldError(
      source,
      'vit',
      `patch ${patchSize} must divide image ${imageSize} (${describeValue(vit)})`,
    );
  return { patchSize, imageSize };
}

/** Their schedule fields -> core's ReductionConfig; `reduce_layers: null` = no schedule. */
function authorsSchedule(
  c: Record<string, unknown>,
  numLayers: number,
  source: string,
): ReductionConfig | null {
  const layers = c['reduce_layers'];
  if (layers === undefined || layers === null) return null;
  if (!Array.isArray(layers))
    throw fieldError(source, 'reduce_layers', 'must be a list of layer indices or null');
  try {
    return validateReductionConfig(
      reductionConfigFromReference({
        ...c,
        sim_method: c['sim_method'] ?? AUTHORS_DEFAULTS.sim_method,
        merge_style: c['merge_style'] ?? AUTHORS_DEFAULTS.merge_style,
      }),
      numLayers,
    );
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new PumerError('CONFIG', `${source}: PuMer schedule fields: ${msg}`, { cause: err });
  }
}

/**
 * What their checkpoints carry besides the model's weights: the `position_ids` buffer transformers 4.25 saved,
 * and `itm_score.*`, the image-text matching head their classes train with and inference does not use.
 */
export const AUTHORS_IGNORED_TENSORS: readonly RegExp[] = [
  /^vilt\.text_embeddings\.position_ids$/,
  /^itm_score\./,
];

const block = (i: number) => `vilt.transformer.blocks.${i}`;

/** Parses their config.json; the MLP width comes from `mlp.fc1.weight` (their blocks ignore `mlp_ratio`). */
function authorsConfig(json: unknown, tensors: TensorSource): ViltConfig {
  const source = 'config.json';
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new PumerError('CONFIG', `${source}: expected a JSON object`);
  const c = json as Record<string, unknown>;
  const D = AUTHORS_DEFAULTS;
  const int = (field: keyof typeof D & string) => optionalPositiveInt(c, field, source, D[field] as number);
  const architecture = configArchitecture(c, source, VQA_ARCHITECTURE);
  const head = AUTHORS_ARCHITECTURES[architecture];
  if (!head) {
    throw fieldError(
      source,
      'architectures',
      `names ${describeValue(architecture)}, not one of the authors' classes (${Object.keys(AUTHORS_ARCHITECTURES).join(', ')})`,
    );
  }
  const hiddenSize = int('hidden_size');
  const numHeads = int('num_heads');
  if (hiddenSize % numHeads !== 0)
    throw fieldError(source, 'num_heads', `(${numHeads}) must divide hidden_size (${hiddenSize})`);
  const numLayers = int('num_layers');
  const { patchSize, imageSize } = vitSizes(c['vit'] ?? D.vit, source);
  const fc1 = tensors.shapeOf(`${block(0)}.mlp.fc1.weight`, 'the MLP width');
  if (fc1.length !== 2)
    throw new PumerError(
      'CHECKPOINT',
      `tensor "${block(0)}.mlp.fc1.weight" must be 2-D, got [${fc1.join(', ')}]`,
    );
  const numImages = head.task === 'nlvr2' ? 2 : 1;
  const tokenTypes = int('token_types');
  if (tokenTypes < numImages + 1) {
    throw fieldError(
      source,
      'token_types',
      numImages === 1
        ? 'must be at least 2 (text and image)'
        : `(${tokenTypes}) must be at least ${numImages + 1} for ${architecture} (text and one row per image)`,
    );
  }
  // VQA answers come from a label file; the other heads' outputs are fixed by the task.
  const labels = head.task === 'vqa' ? [] : (TASK_LABELS[head.task] ?? []);
  const geometry: ViltGeometry = {
    hiddenSize,
    numLayers,
    numHeads,
    intermediateSize: fc1[0],
    layerNormEps: AUTHORS_NORM_EPS.blocks,
    vocabSize: int('vocab_size'),
    // Their text is padded to the task's window, which the reducers count over: that is the model's window.
    maxTextLength: Math.min(head.textWindow, int('max_text_len')),
    imageSize,
    patchSize,
    numChannels: 3,
    // vqa_label_size is in every config of theirs, but only the VQA head has that many outputs.
    numLabels: head.task === 'vqa' ? int('vqa_label_size') : labels.length,
    numImages,
  };
  return {
    layout: 'authors',
    architecture,
    task: head.task,
    geometry,
    labels,
    textPositionRows: int('max_text_len'),
    typeVocabSize: TEXT_TYPE_VOCAB_SIZE,
    modalityTypeVocabSize: tokenTypes,
    qkvBias: true,
    reduction: authorsSchedule(c, numLayers, source),
  };
}

/** Rows [from, to) of a 2-D weight, or elements [from, to) of a bias: a view, no copy. */
function rows(t: FloatTensor, from: number, to: number): FloatTensor {
  const width = t.shape.length === 2 ? t.shape[1] : 1;
  const shape = t.shape.length === 2 ? [to - from, width] : [to - from];
  return floatTensor(t.data.subarray(from * width, to * width), shape);
}

/** Their fused qkv Linear [3D, D] split in its output order (reshaped to [B, N, 3, heads, head_dim]). */
function splitQkv(
  qkv: LinearWeights,
  d: number,
): { query: LinearWeights; key: LinearWeights; value: LinearWeights } {
  const part = (k: number): LinearWeights => ({
    weight: rows(qkv.weight, k * d, (k + 1) * d),
    bias: qkv.bias ? rows(qkv.bias, k * d, (k + 1) * d) : null,
  });
  return { query: part(0), key: part(1), value: part(2) };
}

function authorsBackbone(src: TensorSource, config: ViltConfig): ViltBackboneWeights {
  const g = config.geometry;
  const d = g.hiddenSize;
  const m = g.intermediateSize;
  const eps = AUTHORS_NORM_EPS;
  const grid = g.imageSize / g.patchSize;
  const layers = [];
  for (let i = 0; i < g.numLayers; i++) {
    const b = block(i);
    layers.push({
      norm1: src.norm(`${b}.norm1`, d, eps.blocks),
      ...splitQkv(src.linear(`${b}.attn.qkv`, 3 * d, d), d),
      proj: src.linear(`${b}.attn.proj`, d, d),
      norm2: src.norm(`${b}.norm2`, d, eps.blocks),
      fc1: src.linear(`${b}.mlp.fc1`, m, d),
      fc2: src.linear(`${b}.mlp.fc2`, d, m),
    });
  }
  const t = 'vilt.text_embeddings';
  const v = 'vilt.transformer';
  return {
    wordEmbeddings: src.get(`${t}.word_embeddings.weight`, [g.vocabSize, d]),
    // The table has max_text_len rows; a window of L tokens reads rows 0..L-1 only.
    textPositionEmbeddings: rows(
      src.get(`${t}.position_embeddings.weight`, [config.textPositionRows, d]),
      0,
      g.maxTextLength,
    ),
    textTokenTypeEmbeddings: src.get(`${t}.token_type_embeddings.weight`, [config.typeVocabSize, d]),
    textNorm: src.norm(`${t}.LayerNorm`, d, eps.text),
    clsToken: src.get(`${v}.cls_token`, [1, 1, d], [d]),
    imagePositionEmbeddings: src.get(`${v}.pos_embed`, [1, 1 + grid * grid, d], [1 + grid * grid, d]),
    patchProjection: {
      weight: src.get(`${v}.patch_embed.proj.weight`, [d, g.numChannels, g.patchSize, g.patchSize]),
      bias: src.get(`${v}.patch_embed.proj.bias`, [d]),
    },
    modalityEmbeddings: modalityRows(
      src.get('vilt.token_type_embeddings.weight', [config.modalityTypeVocabSize, d]),
      g.numImages,
    ),
    layers,
    finalNorm: src.norm(`${v}.norm`, d, eps.blocks),
    pooler: src.linear('vilt.pooler.dense', d, d),
  };
}

export const AUTHORS_LAYOUT: LayoutReader = {
  layout: 'authors',
  config: authorsConfig,
  backbone: authorsBackbone,
  headPrefix: (config) => AUTHORS_ARCHITECTURES[config.architecture].headPrefix,
  depthField: 'num_layers',
  ignoredTensors: AUTHORS_IGNORED_TENSORS,
  // Their checkpoints ship no preprocessor_config.json: the transform is fixed by their dataset code.
  preprocessor: (_json, config) => authorsImageTransform(config.geometry.imageSize),
  labelsFrom: `${AUTHORS_VQA_LABEL_FILE} (a JSON list, index -> answer) beside the checkpoint or up to two folders above it, or the labels option`,
};
