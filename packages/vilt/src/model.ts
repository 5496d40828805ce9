import type { ReductionConfig, ViltModel } from '@pumer/core';
import { parseViltConfig, type ViltConfig } from './config.js';
import { type ImageProcessorConfig, parsePreprocessorConfig } from './preprocessor.js';
import { CHECKPOINT_FILE_NAMES, readCheckpoint, sniffCheckpointFormat } from './checkpoint/read.js';
import { readShardedCheckpoint, SHARD_INDEX_FILE_NAMES, type ShardedWeights } from './checkpoint/sharded.js';
import { ViltTokenizer } from './tokenizer.js';
import { viltWeightsFromTensors } from './weights.js';

/** Everything a VQA run needs from a checkpoint directory: weights, tokenizer, image preparation, schedule. */
export interface LoadedVilt {
  readonly model: ViltModel;
  readonly config: ViltConfig;
  readonly tokenizer: ViltTokenizer;
  readonly preprocessor: ImageProcessorConfig;
  /** The schedule the checkpoint was fine-tuned with (config.json "pumer"), or null. */
  readonly reduction: ReductionConfig | null;
}

/** The four files of a Hugging Face ViLT checkpoint, already read (fetch in a browser, fs in Node). */
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
  /** tokenizer.json, parsed. */
  readonly tokenizer: unknown;
  /** preprocessor_config.json, parsed. */
  readonly preprocessor: unknown;
  /** A stable identity for these weights (backends cache compiled graphs under it). */
  readonly id: string;
}

/** Builds a LoadedVilt from file contents; every file is validated and errors name the file and field. */
export function viltFromFiles(files: ViltFiles): LoadedVilt {
  const config = parseViltConfig(files.config);
  const w = files.weights;
  const source =
    w instanceof Uint8Array
      ? (files.weightsName ?? CHECKPOINT_FILE_NAMES[sniffCheckpointFormat(w)])
      : (files.weightsName ?? w.indexName ?? SHARD_INDEX_FILE_NAMES[0]);
  const { tensors } =
    w instanceof Uint8Array ? readCheckpoint(w, source) : readShardedCheckpoint({ ...w, indexName: source });
  const weights = viltWeightsFromTensors(tensors, config, source);
  return {
    model: { id: files.id, geometry: config.geometry, weights, labels: config.labels },
    config,
    tokenizer: new ViltTokenizer(files.tokenizer, config.geometry.maxTextLength),
    preprocessor: parsePreprocessorConfig(files.preprocessor, undefined, config.geometry.patchSize),
    reduction: config.reduction,
  };
}
