import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PumerError } from '@pumer/core';
import type { CheckpointLayout } from '../config.js';
import { HF_CHECKPOINT_FILE_NAMES, toHfCheckpoint } from '../convert.js';
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

function checkOut(out: string, force: boolean): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory())
    throw new PumerError('VALUE', `output "${out}" exists and is not a directory`);
  if (!force && readdirSync(out).length > 0)
    throw new PumerError('VALUE', `output directory "${out}" is not empty (use force to write into it)`);
}

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

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
  const target = resolve(out);
  if (resolve(dir) === target)
    throw new PumerError('VALUE', `output "${out}" is the checkpoint directory itself`);
  checkOut(target, options.force === true);
  const files = readViltFiles(dir, options);
  let hf: ReturnType<typeof toHfCheckpoint>;
  try {
    hf = toHfCheckpoint(files);
  } catch (err) {
    if (err instanceof PumerError) throw new PumerError(err.code, `${dir}: ${err.message}`, { cause: err });
    throw err;
  }
  const names = HF_CHECKPOINT_FILE_NAMES;
  const contents: [string, string | Uint8Array][] = [
    [names.config, json(hf.config)],
    [names.weights, hf.weights],
    [names.tokenizer, json(hf.tokenizer)],
    [names.preprocessor, json(hf.preprocessor)],
  ];
  mkdirSync(target, { recursive: true });
  for (const [name, data] of contents) writeFileSync(join(target, name), data);
  return {
    out: target,
    files: contents.map(([name, data]) => ({
      name,
      bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength,
    })),
    from: hf.loaded.config.layout,
    architecture: hf.loaded.config.architecture,
    labels: hf.loaded.model.labels.length,
    schedule: hf.config['pumer'] !== undefined,
  };
}
