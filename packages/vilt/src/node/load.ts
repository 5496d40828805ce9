import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PumerError } from '@pumer/core';
import { CHECKPOINT_FILE_NAMES } from '../checkpoint/read.js';
import { SHARD_INDEX_FILE_NAMES, type ShardedWeights, shardFileNames } from '../checkpoint/sharded.js';
import { type LoadedVilt, viltFromFiles } from '../model.js';

/**
 * Reads a Hugging Face ViLT checkpoint directory: config.json, tokenizer.json, preprocessor_config.json and
 * the weights, from the first of model.safetensors, pytorch_model.bin or a sharded index (with its shards).
 */

const NEEDS =
  'a ViLT checkpoint needs config.json, tokenizer.json, preprocessor_config.json and model.safetensors or pytorch_model.bin';

/** Single weight files in order of preference: safetensors is preferred (no pickle, no zip to unpack). */
const WEIGHT_FILE_NAMES = [CHECKPOINT_FILE_NAMES.safetensors, CHECKPOINT_FILE_NAMES.torch];

function readFile(dir: string, name: string, needs = NEEDS): Buffer {
  const path = join(dir, name);
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : err instanceof Error ? err.message : String(err);
    throw new PumerError('CHECKPOINT', `${path}: ${why} (${needs})`, { cause: err });
  }
}

function bytesOf(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Identity of a set of files: real path of the first, total size, latest mtime (changes when any changes). */
function fileSetId(paths: readonly string[]): string {
  let size = 0;
  let mtime = 0;
  for (const p of paths) {
    const st = statSync(p);
    size += st.size;
    mtime = Math.max(mtime, Math.trunc(st.mtimeMs));
  }
  return `vilt:${realpathSync(paths[0])}:${size}:${mtime}`;
}

interface FoundWeights {
  readonly weights: Uint8Array | ShardedWeights;
  readonly weightsName: string;
  readonly id: string;
}

/** The directory's weights: a single file if there is one, else the shards of an index. */
function readWeights(dir: string): FoundWeights {
  for (const name of WEIGHT_FILE_NAMES) {
    const path = join(dir, name);
    if (existsSync(path))
      return { weights: bytesOf(readFile(dir, name)), weightsName: name, id: fileSetId([path]) };
  }
  for (const indexName of SHARD_INDEX_FILE_NAMES) {
    const indexPath = join(dir, indexName);
    if (!existsSync(indexPath)) continue;
    const index = readJson(dir, indexName);
    let names: string[];
    try {
      names = shardFileNames(index, indexName);
    } catch (err) {
      if (err instanceof PumerError) throw new PumerError(err.code, `${dir}: ${err.message}`, { cause: err });
      throw err;
    }
    const shards = new Map(
      names.map((n) => [n, bytesOf(readFile(dir, n, `a shard listed in ${indexName}`))]),
    );
    return {
      weights: { index, shards, indexName },
      weightsName: indexName,
      id: fileSetId([indexPath, ...names.map((n) => join(dir, n))]),
    };
  }
  throw new PumerError(
    'CHECKPOINT',
    `checkpoint directory "${dir}" has no weights: expected ${WEIGHT_FILE_NAMES.join(', ')} or a sharded index (${SHARD_INDEX_FILE_NAMES.join(' or ')})`,
  );
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

/**
 * Loads and validates a checkpoint directory. The model id is the weights file's real path, size and mtime
 * (for shards: the index's path, the total size and the latest mtime).
 */
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
  const { weights, weightsName, id } = readWeights(dir);
  const files = {
    config: readJson(dir, 'config.json'),
    weights,
    weightsName,
    tokenizer: readJson(dir, 'tokenizer.json'),
    preprocessor: readJson(dir, 'preprocessor_config.json'),
    id,
  };
  try {
    return viltFromFiles(files);
  } catch (err) {
    if (err instanceof PumerError) throw new PumerError(err.code, `${dir}: ${err.message}`, { cause: err });
    throw err;
  }
}
