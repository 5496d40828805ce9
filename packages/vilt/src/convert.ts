import {
  type FloatTensor,
  type LinearWeights,
  type ReductionConfig,
  reductionConfigToReference,
} from '@pumer/core';
import { HF_TASK_ARCHITECTURES, PUMER_TASK_FIELD } from './heads.js';
import { type LoadedVilt, type ViltFiles, viltFromFiles } from './model.js';
import { preprocessorConfigJson } from './preprocessor.js';
import { type TensorToWrite, writeSafetensors } from './safetensors.js';
import { hfHeadPrefix } from './weights.js';

/**
 * Rewrites a loaded ViLT checkpoint (either layout, any weights format) in the Hugging Face layout: the
 * tensors under transformers' names (the authors' fused qkv already split into query/key/value by their
 * layout reader), config.json with transformers' field names plus the "pumer" schedule section, and
 * preprocessor_config.json with the "pumer" fixed size where ViltImageProcessor cannot express the transform.
 * Browser-safe: the result is bytes and JSON; `@pumer/vilt/node`'s convertCheckpoint writes them to a folder.
 */

/** The files of a Hugging Face ViLT checkpoint, as this converter writes them. */
export const HF_CHECKPOINT_FILE_NAMES = Object.freeze({
  config: 'config.json',
  weights: 'model.safetensors',
  tokenizer: 'tokenizer.json',
  preprocessor: 'preprocessor_config.json',
});

/** A converted checkpoint: one entry per file of HF_CHECKPOINT_FILE_NAMES. */
export interface HfCheckpoint {
  readonly config: Record<string, unknown>;
  /** model.safetensors. */
  readonly weights: Uint8Array;
  /** tokenizer.json, as given (the converter does not change the vocabulary). */
  readonly tokenizer: unknown;
  readonly preprocessor: Record<string, unknown>;
  /** The checkpoint the files were made from (validated by viltFromFiles). */
  readonly loaded: LoadedVilt;
}

/** A float32 tensor to write, in `shape` (default its own). */
function f32(t: FloatTensor, shape: readonly number[] = t.shape): TensorToWrite {
  return { data: t.data, shape, dtype: 'F32' };
}

function linear(out: Map<string, TensorToWrite>, prefix: string, w: LinearWeights): void {
  out.set(`${prefix}.weight`, f32(w.weight));
  if (w.bias) out.set(`${prefix}.bias`, f32(w.bias));
}

/**
 * The weights of a loaded checkpoint under transformers' names for its head's class (heads.ts
 * HF_TASK_ARCHITECTURES: `classifier.{0,1,3}` or `rank_output`). The text position table holds the model's
 * text window of rows (the authors' table is longer than their padded window) and the modality table its text
 * and image rows.
 */
export function hfWeightTensors(loaded: LoadedVilt): Map<string, TensorToWrite> {
  const w = loaded.model.weights;
  const d = loaded.config.geometry.hiddenSize;
  const out = new Map<string, TensorToWrite>();
  const e = 'vilt.embeddings';
  out.set(`${e}.text_embeddings.word_embeddings.weight`, f32(w.wordEmbeddings));
  out.set(`${e}.text_embeddings.position_embeddings.weight`, f32(w.textPositionEmbeddings));
  out.set(`${e}.text_embeddings.token_type_embeddings.weight`, f32(w.textTokenTypeEmbeddings));
  linear(out, `${e}.text_embeddings.LayerNorm`, w.textNorm);
  out.set(`${e}.cls_token`, f32(w.clsToken, [1, 1, d]));
  out.set(
    `${e}.position_embeddings`,
    f32(w.imagePositionEmbeddings, [1, ...w.imagePositionEmbeddings.shape]),
  );
  linear(out, `${e}.patch_embeddings.projection`, w.patchProjection);
  out.set(`${e}.token_type_embeddings.weight`, f32(w.modalityEmbeddings));
  w.layers.forEach((b, i) => {
    const l = `vilt.encoder.layer.${i}`;
    linear(out, `${l}.layernorm_before`, b.norm1);
    linear(out, `${l}.attention.attention.query`, b.query);
    linear(out, `${l}.attention.attention.key`, b.key);
    linear(out, `${l}.attention.attention.value`, b.value);
    linear(out, `${l}.attention.output.dense`, b.proj);
    linear(out, `${l}.layernorm_after`, b.norm2);
    linear(out, `${l}.intermediate.dense`, b.fc1);
    linear(out, `${l}.output.dense`, b.fc2);
  });
  linear(out, 'vilt.layernorm', w.finalNorm);
  linear(out, 'vilt.pooler.dense', w.pooler);
  const head = w.head;
  const prefix = hfHeadPrefix(loaded.model.task);
  if (head.kind === 'rank') {
    linear(out, prefix, head.rank);
  } else {
    linear(out, `${prefix}.0`, head.fc1);
    linear(out, `${prefix}.1`, head.norm);
    linear(out, `${prefix}.3`, head.fc2);
  }
  return out;
}

/** A schedule as the "pumer" section of config.json (the reference's names; loaders read it back exactly). */
function pumerSection(r: ReductionConfig): Record<string, unknown> {
  return { ...reductionConfigToReference(r), attention: 'pumer-soft' };
}

/**
 * config.json of a loaded checkpoint in transformers' ViltConfig names. One `layer_norm_eps` serves every
 * LayerNorm there: the blocks' (the authors' text-embedding LayerNorm used 1e-12 where their blocks use 1e-6;
 * the difference moves the logits by ~1e-6).
 */
export function hfConfigJson(loaded: LoadedVilt): Record<string, unknown> {
  const c = loaded.config;
  const g = c.geometry;
  const task = loaded.model.task;
  const labels = loaded.model.labels;
  return {
    architectures: [HF_TASK_ARCHITECTURES[task]],
    // VE has no Hugging Face class: its VQA-shaped head says its task (heads.ts PUMER_TASK_FIELD).
    ...(task === 've' ? { [PUMER_TASK_FIELD]: task } : {}),
    model_type: 'vilt',
    hidden_size: g.hiddenSize,
    num_hidden_layers: g.numLayers,
    num_attention_heads: g.numHeads,
    intermediate_size: g.intermediateSize,
    hidden_act: 'gelu',
    layer_norm_eps: g.layerNormEps,
    vocab_size: g.vocabSize,
    // The text window: the tokenizer pads to it and the reducers count over it.
    max_position_embeddings: g.maxTextLength,
    type_vocab_size: c.typeVocabSize,
    modality_type_vocab_size: loaded.model.weights.modalityEmbeddings.shape[0],
    image_size: g.imageSize,
    patch_size: g.patchSize,
    num_channels: g.numChannels,
    qkv_bias: c.qkvBias,
    ...(g.numImages > 1 ? { num_images: g.numImages } : {}),
    // A retrieval head's one output is its score, not a label transformers would read.
    ...(task === 'retrieval'
      ? {}
      : {
          id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
          label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
        }),
    ...(c.reduction ? { pumer: pumerSection(c.reduction) } : {}),
  };
}

/**
 * Converts a checkpoint's files (either layout, any head; validated and mapped by viltFromFiles, so a missing
 * tokenizer or label list fails here with its CHECKPOINT / TOKENIZER error) to the Hugging Face layout.
 */
export function toHfCheckpoint(files: ViltFiles): HfCheckpoint {
  const loaded = viltFromFiles(files);
  return {
    config: hfConfigJson(loaded),
    weights: writeSafetensors(hfWeightTensors(loaded), { format: 'pt' }),
    tokenizer: files.tokenizer,
    preprocessor: preprocessorConfigJson(loaded.preprocessor),
    loaded,
  };
}
