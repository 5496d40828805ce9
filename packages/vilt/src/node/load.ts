import { readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PumerError } from '@pumer/core';
import { type LoadedVilt, viltFromFiles } from '../model.js';

/** Reads a Hugging Face ViLT checkpoint directory (config.json, model.safetensors, tokenizer.json, preprocessor_config.json). */

function readFile(dir: string, name: string): Buffer {
  const path = join(dir, name);
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : err instanceof Error ? err.message : String(err);
    throw new PumerError(
      'CHECKPOINT',
      `${path}: ${why} (a ViLT checkpoint needs config.json, model.safetensors, tokenizer.json and preprocessor_config.json)`,
      {
        cause: err,
      },
    );
  }
}

function readJson(dir: string, name: string): unknown {
  const text = readFile(dir, name).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new PumerError('CHECKPOINT', `${join(dir, name)}: not valid JSON (${msg})`, { cause: err });
  }
}

/** Loads and validates a checkpoint directory. The model id is the weights file's real path, size and mtime. */
export function loadVilt(dir: string): LoadedVilt {
  if (typeof dir !== 'string' || dir.length === 0)
    throw new PumerError('CHECKPOINT', 'loadVilt needs a checkpoint directory path');
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(dir);
  } catch (err) {
    throw new PumerError('CHECKPOINT', `checkpoint directory "${dir}" does not exist`, { cause: err });
  }
  if (!stat.isDirectory()) throw new PumerError('CHECKPOINT', `"${dir}" is not a directory`);
  const weightsPath = join(dir, 'model.safetensors');
  const weights = readFile(dir, 'model.safetensors');
  const ws = statSync(weightsPath);
  const files = {
    config: readJson(dir, 'config.json'),
    weights: new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength),
    tokenizer: readJson(dir, 'tokenizer.json'),
    preprocessor: readJson(dir, 'preprocessor_config.json'),
    id: `vilt:${realpathSync(weightsPath)}:${ws.size}:${Math.trunc(ws.mtimeMs)}`,
  };
  try {
    return viltFromFiles(files);
  } catch (err) {
    if (err instanceof PumerError) throw new PumerError(err.code, `${dir}: ${err.message}`, { cause: err });
    throw err;
  }
}
