import { PumerError, type ReductionConfig, type ViltModel, type ViltWeights } from '@pumer/core';
import type { ViltConfig } from './config.js';
import { CHECKPOINT_FILE_NAMES, readCheckpoint, sniffCheckpointFormat } from './checkpoint/read.js';
import { readShardedCheckpoint, SHARD_INDEX_FILE_NAMES, type ShardedWeights } from './checkpoint/sharded.js';
import { AUTHORS_LAYOUT } from './layouts/authors.js';
import { detectLayout } from './layouts/detect.js';
import { HF_LAYOUT } from './layouts/hf.js';
import type { LayoutReader } from './layouts/layout.js';
import type { ImageProcessorConfig } from './preprocessor.js';
import { ViltTokenizer } from './tokenizer.js';
import { headWeights } from './heads.js';
import { TensorSource } from './weights.js';
import { checkJsonValue } from './json-value.js';

/**
 * Everything a run needs from a checkpoint, whatever its layout and head: weights, tokenizer (padding to the
 * model's text window), image preparation, labels, schedule; `model.task` says which pipeline answers it. Callers never need to know the layout:
 * `prepareImage(image, loaded.preprocessor)` and `loaded.tokenizer.encode(question)` give the model's inputs.
 */
export interface LoadedVilt {
  readonly model: ViltModel;
  /** Layout-neutral; `config.layout` says which layout the files were in. */
  readonly config: ViltConfig;
  /** Pads every question to `tokenizer.window` = `config.geometry.maxTextLength` tokens. */
  readonly tokenizer: ViltTokenizer;
  /** The image transform of this checkpoint (Hugging Face: preprocessor_config.json; authors: 384x384 bilinear). */
  readonly preprocessor: ImageProcessorConfig;
  /** The schedule the checkpoint carries (HF: config.json "pumer"; authors: reduce_layers etc.), or null. */
  readonly reduction: ReductionConfig | null;
  /** Milliseconds loadVilt took to read, decode and check the checkpoint (start-up's first phase). */
  readonly loadMs?: number;
}

/** A checkpoint's files, already read (fetch in a browser, fs in Node). */
export interface ViltFiles {
  /** config.json, parsed. */
  readonly config: unknown;
  /**
   * The weights: the bytes of model.safetensors or pytorch_model.bin (told apart by their first bytes), or a
   * sharded checkpoint's index and shards.
   */
  readonly weights: Uint8Array | ShardedWeights;
  /** The weights file's name, for error messages (default: the hub name of the format found). */
  readonly weightsName?: string;
  /**
   * tokenizer.json, parsed. Required; the PuMer authors' checkpoints ship none (their config.json names
   * `bert-base-uncased`), so pass that tokenizer's tokenizer.json.
   */
  readonly tokenizer?: unknown;
  /** preprocessor_config.json, parsed: required by the Hugging Face layout, unused by the authors' one. */
  readonly preprocessor?: unknown;
  /**
   * The label of each head output, in order. Replaces config.json's `id2label` (or a task's fixed labels);
   * required for the authors' VQA checkpoints (their answers live in the dataset's vqa2_label2ans.json).
   */
  readonly labels?: readonly string[];
  /** Where `labels` came from, for error messages (default "the labels option"). */
  readonly labelsName?: string;
  /** A stable identity for these weights (backends cache compiled graphs under it). */
  readonly id: string;
}

const LAYOUT_READERS: Readonly<Record<ViltConfig['layout'], LayoutReader>> = {
  hf: HF_LAYOUT,
  authors: AUTHORS_LAYOUT,
};

function answerLabels(files: ViltFiles, config: ViltConfig, reader: LayoutReader): readonly string[] {
  const n = config.geometry.numLabels;
  if (files.labels === undefined) {
    if (config.labels.length > 0) return config.labels;
    throw new PumerError(
      'CHECKPOINT',
      `no answer labels: this ${config.architecture} checkpoint (${reader.layout === 'hf' ? 'Hugging Face' : "the PuMer authors'"} layout, ${n} answers) takes them from ${reader.labelsFrom}`,
    );
  }
  const from = files.labelsName ?? 'the labels option';
  if (!Array.isArray(files.labels) || !files.labels.every((l) => typeof l === 'string'))
    throw new PumerError('CHECKPOINT', `${from}: labels must be a list of strings`);
  if (files.labels.length !== n) {
    throw new PumerError(
      'CHECKPOINT',
      `${from}: ${files.labels.length} labels, but the checkpoint's ${config.task === 'vqa' ? 'VQA' : config.task} head has ${n} outputs`,
    );
  }
  return files.labels;
}

function loadTokenizer(files: Omit<ViltFiles, 'weights'>, config: ViltConfig): ViltTokenizer {
  if (files.tokenizer === undefined) {
    const named = (files.config as Record<string, unknown>)['tokenizer'];
    const why =
      typeof named === 'string'
        ? `config.json names "${named}" but the checkpoint has no tokenizer.json`
        : 'the checkpoint has no tokenizer.json';
    throw new PumerError(
      'TOKENIZER',
      `no tokenizer: ${why}; pass a tokenizer.json with the tokenizer option (CLI: --tokenizer)`,
    );
  }
  const tokenizer = new ViltTokenizer(files.tokenizer, config.geometry.maxTextLength);
  // An id past the word-embedding table would read outside it on every backend.
  const rows = config.geometry.vocabSize;
  if (tokenizer.maxId >= rows) {
    throw new PumerError(
      'TOKENIZER',
      `tokenizer.json has token ids up to ${tokenizer.maxId}, but the model's word-embedding table has ${rows} rows (config.json "vocab_size"): the tokenizer belongs to another model`,
    );
  }
  return tokenizer;
}

/**
 * Builds a LoadedVilt from file contents, in the Hugging Face layout or the PuMer authors' (told apart by
 * config.json and the tensor names), with any of the four heads (heads.ts). Every file is validated; errors
 * name the file and field.
 */
export function viltFromFiles(files: ViltFiles): LoadedVilt {
  if (files === null || typeof files !== 'object') {
    throw new PumerError(
      'VALUE',
      'viltFromFiles takes {config, weights, tokenizer?, preprocessor?, labels?, id}',
    );
  }
  // Plain JSON only (no BigInt, NaN, cycles or absurd nesting) before any field is read.
  checkJsonValue(files.config, 'config.json', 'CONFIG');
  if (files.tokenizer !== undefined) checkJsonValue(files.tokenizer, 'tokenizer.json', 'TOKENIZER');
  if (files.preprocessor !== undefined)
    checkJsonValue(files.preprocessor, 'preprocessor_config.json', 'CONFIG');
  const w = files.weights;
  const source =
    w instanceof Uint8Array
      ? (files.weightsName ?? CHECKPOINT_FILE_NAMES[sniffCheckpointFormat(w)])
      : (files.weightsName ?? w.indexName ?? SHARD_INDEX_FILE_NAMES[0]);
  const { tensors } =
    w instanceof Uint8Array ? readCheckpoint(w, source) : readShardedCheckpoint({ ...w, indexName: source });
  const reader = LAYOUT_READERS[detectLayout(files.config, tensors.keys(), source)];
  const src = new TensorSource(tensors, source);
  const parsed = reader.config(files.config, src);
  const backbone = reader.backbone(src, parsed);
  const labels = answerLabels(files, parsed, reader);
  const config: ViltConfig = { ...parsed, labels };
  const g = config.geometry;
  const weights = {
    ...backbone,
    head: headWeights(src, { task: config.task, prefix: reader.headPrefix(config) }, g),
  };
  src.checkAllUsed(reader.ignoredTensors, g.numLayers, reader.depthField);
  return {
    model: { id: files.id, geometry: g, weights, labels, task: config.task },
    ...viltParts(files, config),
  };
}

/** What a load gives besides the model, from the small files and the parsed configuration. */
function viltParts(files: Omit<ViltFiles, 'weights'>, config: ViltConfig): Omit<LoadedVilt, 'model'> {
  return {
    config,
    tokenizer: loadTokenizer(files, config),
    preprocessor: LAYOUT_READERS[config.layout].preprocessor(files.preprocessor, config),
    reduction: config.reduction,
  };
}

/**
 * A LoadedVilt whose configuration is already known (an earlier full load of the same files parsed it) and
 * whose weights are read on first use: the small files are checked now, `weights` is read, decoded and
 * validated when first accessed (its errors are thrown there).
 */
export function viltWithLazyWeights(
  files: Omit<ViltFiles, 'weights'>,
  config: ViltConfig,
  weights: () => ViltWeights,
): LoadedVilt {
  checkJsonValue(files.config, 'config.json', 'CONFIG');
  if (files.tokenizer !== undefined) checkJsonValue(files.tokenizer, 'tokenizer.json', 'TOKENIZER');
  if (files.preprocessor !== undefined)
    checkJsonValue(files.preprocessor, 'preprocessor_config.json', 'CONFIG');
  let read: ViltWeights | undefined;
  const model: ViltModel = {
    id: files.id,
    geometry: config.geometry,
    labels: config.labels,
    task: config.task,
    get weights(): ViltWeights {
      read ??= weights();
      return read;
    },
  };
  return { model, ...viltParts(files, config) };
}
