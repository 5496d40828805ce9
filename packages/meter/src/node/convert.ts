import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PumerError } from '@pumer/core';
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

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

/**
 * Converts the METER checkpoint in `dir` (pytorch_model.bin or model.safetensors) to the safetensors layout in
 * `out`: config.json, text_config.json, model.safetensors, and tokenizer.json when the checkpoint has one (the
 * tokenizer option's, the folder's or a bundled one). loadMeter reads it back to the same model. Everything is
 * checked before anything is written.
 */
export function convertMeter(dir: string, out: string, options: ConvertMeterOptions = {}): ConvertedMeter {
  const target = resolve(out);
  if (resolve(dir) === target)
    throw new PumerError('VALUE', `output "${out}" is the checkpoint directory itself`);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory())
      throw new PumerError('VALUE', `output "${out}" exists and is not a directory`);
    if (options.force !== true && readdirSync(target).length > 0)
      throw new PumerError('VALUE', `output directory "${out}" is not empty (use force to write into it)`);
  }
  const files = readMeterDir(dir, options);
  let converted: ReturnType<typeof toMeterSafetensors>;
  try {
    converted = toMeterSafetensors(files);
  } catch (err) {
    if (err instanceof PumerError) throw new PumerError(err.code, `${dir}: ${err.message}`, { cause: err });
    throw err;
  }
  const names = METER_CHECKPOINT_FILE_NAMES;
  const contents: [string, string | Uint8Array][] = [
    [names.config, json(converted.config)],
    [names.textConfig, json(converted.textConfig)],
    [names.weights, converted.weights],
    ...(converted.tokenizer !== undefined
      ? [[names.tokenizer, json(converted.tokenizer)] as [string, string]]
      : []),
  ];
  mkdirSync(target, { recursive: true });
  for (const [name, data] of contents) writeFileSync(join(target, name), data);
  return {
    out: target,
    files: contents.map(([name, data]) => ({
      name,
      bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength,
    })),
    architecture: converted.loaded.config.architecture,
  };
}
