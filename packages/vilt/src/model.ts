import type { ReductionConfig, ViltModel } from '@pumer/core';
import { parseViltConfig, type ViltConfig } from './config.js';
import { type ImageProcessorConfig, parsePreprocessorConfig } from './preprocessor.js';
import { readSafetensors } from './safetensors.js';
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
  /** model.safetensors bytes. */
  readonly weights: Uint8Array;
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
  const { tensors } = readSafetensors(files.weights);
  const weights = viltWeightsFromTensors(tensors, config);
  return {
    model: { id: files.id, geometry: config.geometry, weights, labels: config.labels },
    config,
    tokenizer: new ViltTokenizer(files.tokenizer, config.geometry.maxTextLength),
    preprocessor: parsePreprocessorConfig(files.preprocessor),
    reduction: config.reduction,
  };
}
