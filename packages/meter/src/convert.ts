import { type TensorToWrite, writeSafetensors } from '@pumer/vilt';
import { ROBERTA_BASE_CONFIG } from './config.js';
import { type LoadedMeter, type MeterFiles, readMeterFiles } from './model.js';
import { METER_IGNORED_TENSORS } from './weights.js';

/**
 * The safetensors layout of a METER checkpoint, as `convertMeter` writes it: the authors' config.json and
 * text_config.json unchanged, and model.safetensors holding the tensors the model reads under the authors'
 * names (the fused `attn.in_proj_*` kept fused, so one set of names serves both files), without the buffers
 * and training-only heads the loader ignores. tokenizer.json is copied when the checkpoint has one.
 * Browser-safe: the result is bytes and JSON.
 */

export const METER_CHECKPOINT_FILE_NAMES = Object.freeze({
  config: 'config.json',
  textConfig: 'text_config.json',
  weights: 'model.safetensors',
  tokenizer: 'tokenizer.json',
});

export interface MeterSafetensorsCheckpoint {
  readonly config: unknown;
  readonly textConfig: unknown;
  /** model.safetensors. */
  readonly weights: Uint8Array;
  /** tokenizer.json, as given (absent when the input had none). */
  readonly tokenizer?: unknown;
  /** The checkpoint the files were made from (validated by meterFromFiles). */
  readonly loaded: LoadedMeter;
}

/**
 * Converts a METER checkpoint's files (pytorch_model.bin or model.safetensors) to the safetensors layout.
 * Without text_config.json the written one is roberta-base's, which the input was read with.
 */
export function toMeterSafetensors(files: MeterFiles): MeterSafetensorsCheckpoint {
  const { loaded, tensors } = readMeterFiles(files);
  const out = new Map<string, TensorToWrite>();
  for (const [name, t] of tensors) {
    // meterFromFiles read every other tensor as a float32 weight: they are written as F32.
    if (!METER_IGNORED_TENSORS.some((p) => p.test(name))) out.set(name, { data: t.data, shape: t.shape });
  }
  return {
    config: files.config,
    textConfig: files.textConfig ?? { ...ROBERTA_BASE_CONFIG },
    weights: writeSafetensors(out, { format: 'pt' }),
    ...(files.tokenizer !== undefined ? { tokenizer: files.tokenizer } : {}),
    loaded,
  };
}
