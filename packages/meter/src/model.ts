import { type MeterModel, PumerError, type ReductionConfig } from '@pumer/core';
import {
  CHECKPOINT_FILE_NAMES,
  type CheckpointTensor,
  checkJsonValue,
  readCheckpoint,
  sniffCheckpointFormat,
  TensorSource,
} from '@pumer/vilt';
import { type MeterConfig, parseMeterConfig } from './config.js';
import { weightsFingerprint } from './fingerprint.js';
import { MeterTokenizer } from './tokenizer.js';
import { METER_IGNORED_TENSORS, meterWeightsFromTensors } from './weights.js';

/**
 * A METER checkpoint from its files' contents (fetch in a browser, fs in Node): the authors' layout
 * (config.json, text_config.json, pytorch_model.bin) or the one `convertMeter` writes (the same configs and
 * tensor names in model.safetensors); the weights format is told apart by its first bytes.
 */

export interface MeterFiles {
  /** config.json, parsed (the authors' MeterConfig). */
  readonly config: unknown;
  /** text_config.json, parsed (RoBERTa's config); absent = roberta-base's, as in the authors' setup. */
  readonly textConfig?: unknown;
  /** pytorch_model.bin or model.safetensors bytes. */
  readonly weights: Uint8Array;
  /** The weights file's name, for error messages (default: the hub name of the format found). */
  readonly weightsName?: string;
  /**
   * tokenizer.json, parsed: RoBERTa's byte-level BPE (roberta-base's for the authors' checkpoints, which ship
   * none). Required.
   */
  readonly tokenizer?: unknown;
  /** The label of each head output, in order; replaces config.json's id2label or the task's fixed labels. */
  readonly labels?: readonly string[];
  /** Where `labels` came from, for error messages (default "the labels option"). */
  readonly labelsName?: string;
  /** A stable identity for these weights; default: a fingerprint of their bytes (`meter:<length>:<hash>`). */
  readonly id?: string;
}

/** Everything a run needs from a METER checkpoint; `model.task` says which pipeline answers it. */
export interface LoadedMeter {
  readonly model: MeterModel;
  readonly config: MeterConfig;
  /** Pads every text to `tokenizer.window` = `config.geometry.maxTextLength` tokens. */
  readonly tokenizer: MeterTokenizer;
  /** The square side images are prepared to (prepareMeterImage). */
  readonly imageSize: number;
  /** The schedule the checkpoint carries (reduceLayers in step indices), or null. */
  readonly reduction: ReductionConfig | null;
}

/**
 * The head's labels: the `labels` file when given, else config.json's (id2label, or the task's fixed ones);
 * a VQA head with neither answers with its output indices ("0", "1", …).
 */
function headLabels(files: MeterFiles, config: MeterConfig): readonly string[] {
  const n = config.geometry.numLabels;
  if (files.labels === undefined)
    return config.labels.length > 0 ? config.labels : Array.from({ length: n }, (_, i) => String(i));
  const from = files.labelsName ?? 'the labels option';
  if (!Array.isArray(files.labels) || !files.labels.every((l) => typeof l === 'string'))
    throw new PumerError('CHECKPOINT', `${from}: labels must be a list of strings`);
  if (files.labels.length !== n)
    throw new PumerError(
      'CHECKPOINT',
      `${from}: ${files.labels.length} labels, but the checkpoint's ${config.architecture} head has ${n} outputs`,
    );
  return files.labels;
}

function meterTokenizer(files: MeterFiles, config: MeterConfig): MeterTokenizer {
  if (files.tokenizer === undefined)
    throw new PumerError(
      'TOKENIZER',
      `no tokenizer: config.json names "${config.tokenizerName}" but the checkpoint has no tokenizer.json; pass that tokenizer's tokenizer.json with the tokenizer option (CLI: --tokenizer)`,
    );
  const tokenizer = new MeterTokenizer(files.tokenizer, config.geometry.maxTextLength);
  const text = config.geometry.text;
  // An id past the word-embedding table would read outside it on every backend.
  if (tokenizer.maxId >= text.vocabSize)
    throw new PumerError(
      'TOKENIZER',
      `tokenizer.json has token ids up to ${tokenizer.maxId}, but the model's word-embedding table has ${text.vocabSize} rows: the tokenizer belongs to another model`,
    );
  // RoBERTa's position ids count the non-pad tokens: padding must be the id the model treats as padding.
  if (tokenizer.padId !== text.padTokenId)
    throw new PumerError(
      'TOKENIZER',
      `tokenizer.json pads with id ${tokenizer.padId}, but the text encoder's pad_token_id is ${text.padTokenId}`,
    );
  return tokenizer;
}

/** Reads, validates and maps a METER checkpoint's files; errors name the file and field or tensor. */
export function meterFromFiles(files: MeterFiles): LoadedMeter {
  return readMeterFiles(files).loaded;
}

/** meterFromFiles, also returning the weights file's tensors (every one read or one of the ignored). */
export function readMeterFiles(files: MeterFiles): {
  loaded: LoadedMeter;
  tensors: ReadonlyMap<string, CheckpointTensor>;
} {
  if (files === null || typeof files !== 'object' || !(files.weights instanceof Uint8Array))
    throw new PumerError(
      'VALUE',
      'meterFromFiles takes {config, textConfig?, weights: Uint8Array, tokenizer?, labels?, id?}',
    );
  checkJsonValue(files.config, 'config.json', 'CONFIG');
  if (files.textConfig !== undefined) checkJsonValue(files.textConfig, 'text_config.json', 'CONFIG');
  if (files.tokenizer !== undefined) checkJsonValue(files.tokenizer, 'tokenizer.json', 'TOKENIZER');
  const config = parseMeterConfig(files.config, files.textConfig);
  const source = files.weightsName ?? CHECKPOINT_FILE_NAMES[sniffCheckpointFormat(files.weights)];
  const { tensors } = readCheckpoint(files.weights, source);
  const src = new TensorSource(tensors, source);
  const weights = meterWeightsFromTensors(src, config);
  src.checkAllUsed(METER_IGNORED_TENSORS, config.geometry.numSteps, 'num_top_layer');
  const labels = headLabels(files, config);
  const loaded: LoadedMeter = {
    model: {
      kind: 'meter',
      id: files.id ?? weightsFingerprint(files.weights),
      geometry: config.geometry,
      weights,
      labels,
      task: config.task,
    },
    config: { ...config, labels },
    tokenizer: meterTokenizer(files, config),
    imageSize: config.geometry.image.imageSize,
    reduction: config.reduction,
  };
  return { loaded, tensors };
}
