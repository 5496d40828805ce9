import {
  type CheckpointOutputFile,
  checkOutputDir,
  convertingIn,
  jsonFileText as json,
  writeOutputFiles,
} from '@pumer/vilt/node';
import { METER_CHECKPOINT_FILE_NAMES, toMeterSafetensors } from '../convert.js';
import { type LoadMeterOptions, readMeterDir } from './load.js';

export interface ConvertMeterOptions extends LoadMeterOptions {
  /** Write into a non-empty output folder (the written files are replaced, anything else is left). */
  readonly force?: boolean;
}

export interface ConvertedMeter {
  /** The output folder, absolute. */
  readonly out: string;
  /** The files written, by name, with their sizes in bytes. */
  readonly files: readonly { readonly name: string; readonly bytes: number }[];
  readonly architecture: string;
}

/**
 * Converts the METER checkpoint in `dir` (pytorch_model.bin or model.safetensors) to the safetensors layout in
 * `out`: config.json, text_config.json, model.safetensors, and tokenizer.json when the checkpoint has one (the
 * tokenizer option's, the folder's or a bundled one). loadMeter reads it back to the same model. Everything is
 * checked before anything is written.
 */
export function convertMeter(dir: string, out: string, options: ConvertMeterOptions = {}): ConvertedMeter {
  const target = checkOutputDir(dir, out, options.force === true);
  const files = readMeterDir(dir, options);
  const converted = convertingIn(dir, () => toMeterSafetensors(files));
  const names = METER_CHECKPOINT_FILE_NAMES;
  const contents: CheckpointOutputFile[] = [
    [names.config, json(converted.config)],
    [names.textConfig, json(converted.textConfig)],
    [names.weights, converted.weights],
    ...(converted.tokenizer !== undefined ? [[names.tokenizer, json(converted.tokenizer)] as const] : []),
  ];
  return {
    out: target,
    files: writeOutputFiles(target, contents),
    architecture: converted.loaded.config.architecture,
  };
}
