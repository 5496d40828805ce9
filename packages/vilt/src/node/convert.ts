import type { CheckpointLayout } from '../config.js';
import { HF_CHECKPOINT_FILE_NAMES, toHfCheckpoint } from '../convert.js';
import {
  type CheckpointOutputFile,
  checkOutputDir,
  convertingIn,
  jsonFileText as json,
  writeOutputFiles,
} from './checkpoint-output.js';
import { type LoadViltOptions, readViltFiles } from './load.js';

export interface ConvertCheckpointOptions extends LoadViltOptions {
  /** Write into a non-empty output folder (the four files are replaced, anything else is left). */
  readonly force?: boolean;
}

export interface ConvertedCheckpoint {
  /** The output folder, absolute. */
  readonly out: string;
  /** The files written, by name, with their sizes in bytes. */
  readonly files: readonly { readonly name: string; readonly bytes: number }[];
  /** The layout the input was in. */
  readonly from: CheckpointLayout;
  readonly architecture: string;
  readonly labels: number;
  /** Whether config.json carries a "pumer" schedule section (the input had a schedule). */
  readonly schedule: boolean;
}

/**
 * Converts the checkpoint in `dir` (Hugging Face or the PuMer authors' layout; model.safetensors,
 * pytorch_model.bin or shards) into a Hugging Face layout checkpoint in `out`: config.json, model.safetensors,
 * tokenizer.json and preprocessor_config.json, which loadVilt reads back to the same model, schedule and
 * preprocessing. Everything is checked before anything is written.
 */
export function convertCheckpoint(
  dir: string,
  out: string,
  options: ConvertCheckpointOptions = {},
): ConvertedCheckpoint {
  const target = checkOutputDir(dir, out, options.force === true);
  const files = readViltFiles(dir, options);
  const hf = convertingIn(dir, () => toHfCheckpoint(files));
  const names = HF_CHECKPOINT_FILE_NAMES;
  const contents: CheckpointOutputFile[] = [
    [names.config, json(hf.config)],
    [names.weights, hf.weights],
    [names.tokenizer, json(hf.tokenizer)],
    [names.preprocessor, json(hf.preprocessor)],
  ];
  return {
    out: target,
    files: writeOutputFiles(target, contents),
    from: hf.loaded.config.layout,
    architecture: hf.loaded.config.architecture,
    labels: hf.loaded.model.labels.length,
    schedule: hf.config['pumer'] !== undefined,
  };
}
