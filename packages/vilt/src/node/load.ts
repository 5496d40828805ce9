import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CONTENT_MEMO, PumerError } from '@pumer/core';
import { CHECKPOINT_FILE_NAMES } from '../checkpoint/read.js';
import { VQA_ARCHITECTURE } from '../config.js';
import { SHARD_INDEX_FILE_NAMES, type ShardedWeights, shardFileNames } from '../checkpoint/sharded.js';
import { AUTHORS_VQA_LABEL_FILE, parseLabelList } from '../labels.js';
import { type LoadedVilt, type ViltFiles, viltFromFiles, viltWithLazyWeights } from '../model.js';
import { CheckpointMemo, checkpointMemoDirFromEnv } from './checkpoint-memo.js';

/**
 * Reads a ViLT checkpoint directory, in the Hugging Face layout (config.json, tokenizer.json,
 * preprocessor_config.json) or the PuMer authors' (config.json only: the tokenizer and the VQA answer list
 * come from options or nearby files), with the weights from the first of model.safetensors,
 * pytorch_model.bin or a sharded index (with its shards).
 */

const NEEDS = 'a ViLT checkpoint needs config.json and model.safetensors or pytorch_model.bin';

/** How many folders above the checkpoint the authors' answer list is looked for (their repos keep data apart). */
const LABEL_SEARCH_LEVELS = 2;

export interface LoadViltOptions {
  /**
   * The answer of each VQA output: a label-list file (a JSON list, index -> answer, as the authors'
   * vqa2_label2ans.json) or the list itself. Replaces config.json's id2label. Default: id2label; without one
   * (the authors' layout), datasets/vqa2/vqa2_label2ans.json in the checkpoint folder or up to two folders up.
   */
  readonly labels?: string | readonly string[];
  /**
   * tokenizer.json: its path, a folder holding one, or its parsed contents. Default: the checkpoint folder's
   * tokenizer.json (the authors' checkpoints have none: their config names bert-base-uncased).
   */
  readonly tokenizer?: string | object;
  /**
   * Where the checkpoint memo lives (checkpoint-memo.ts), or false for none: with one, a checkpoint whose files
   * are unchanged since a full load remembered them loads without reading its weights (they are read, checked
   * and decoded on first use). Default: checkpointMemoDirFromEnv() (beside the graph cache).
   */
  readonly memo?: string | false;
}

/** Single weight files in order of preference: safetensors is preferred (no pickle, no zip to unpack). */
const WEIGHT_FILE_NAMES = [CHECKPOINT_FILE_NAMES.safetensors, CHECKPOINT_FILE_NAMES.torch];

function readFile(dir: string, name: string, needs = NEEDS): Buffer {
  return withFile(dir, name, needs, (path) => readFileSync(path));
}

/** `use` of the file `name` in `dir`; a failure is a CHECKPOINT error naming the file and why it is needed. */
function withFile<T>(dir: string, name: string, needs: string, use: (path: string) => T): T {
  const path = join(dir, name);
  try {
    return use(path);
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

/** Where a directory's weights are: a single file, or a sharded index (read: it is small) and its shards. */
interface WeightsLocation {
  readonly weightsName: string;
  /** Every file the weights are in (the index first). */
  readonly files: readonly string[];
  readonly shards?: { readonly index: unknown; readonly names: readonly string[] };
}

interface FoundWeights {
  readonly weights: Uint8Array | ShardedWeights;
  readonly weightsName: string;
}

/** The directory's weights files: a single file if there is one, else the shards of an index. */
function locateWeights(dir: string): WeightsLocation {
  for (const name of WEIGHT_FILE_NAMES) {
    const path = join(dir, name);
    if (existsSync(path)) return { weightsName: name, files: [path] };
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
    // Every shard must be there (it is read later, maybe lazily: its absence is this load's error).
    for (const n of names) withFile(dir, n, `a shard listed in ${indexName}`, statSync);
    return {
      weightsName: indexName,
      files: [indexPath, ...names.map((n) => join(dir, n))],
      shards: { index, names },
    };
  }
  throw new PumerError(
    'CHECKPOINT',
    `checkpoint directory "${dir}" has no weights: expected ${WEIGHT_FILE_NAMES.join(', ')} or a sharded index (${SHARD_INDEX_FILE_NAMES.join(' or ')})`,
  );
}

/** The located weights' bytes. */
function readWeights(dir: string, at: WeightsLocation): FoundWeights {
  if (!at.shards) return { weights: bytesOf(readFile(dir, at.weightsName)), weightsName: at.weightsName };
  const needs = `a shard listed in ${at.weightsName}`;
  const shards = new Map(at.shards.names.map((n) => [n, bytesOf(readFile(dir, n, needs))]));
  return {
    weights: { index: at.shards.index, shards, indexName: at.weightsName },
    weightsName: at.weightsName,
  };
}

function readJson(dir: string, name: string, needs = NEEDS): unknown {
  const text = readFile(dir, name, needs).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new PumerError('CHECKPOINT', `${join(dir, name)}: not valid JSON (${msg})`, { cause: err });
  }
}

/** A JSON file by path; `needs` says why it is read, for the error when it cannot be. */
function readJsonAt(path: string, needs: string): unknown {
  return readJson(dirname(path), basename(path), needs);
}

function optionalJson(dir: string, name: string): unknown {
  return existsSync(join(dir, name)) ? readJson(dir, name) : undefined;
}

function resolveTokenizer(dir: string, option: LoadViltOptions['tokenizer']): unknown {
  if (option === undefined) return optionalJson(dir, 'tokenizer.json');
  if (typeof option !== 'string') return option;
  const isDir = existsSync(option) && statSync(option).isDirectory();
  return readJsonAt(isDir ? join(option, 'tokenizer.json') : option, 'given as the tokenizer option');
}

/** The label-list file of the authors' layout: in the checkpoint folder or up to LABEL_SEARCH_LEVELS above. */
function findLabelFile(dir: string): string | undefined {
  let at = resolve(dir);
  for (let level = 0; level <= LABEL_SEARCH_LEVELS; level++) {
    const path = join(at, AUTHORS_VQA_LABEL_FILE);
    if (existsSync(path)) return path;
    at = dirname(at);
  }
  return undefined;
}

function resolveLabels(
  dir: string,
  config: unknown,
  option: LoadViltOptions['labels'],
): Pick<ViltFiles, 'labels' | 'labelsName'> {
  if (option !== undefined && typeof option !== 'string')
    return { labels: parseLabelList(option, 'the labels option'), labelsName: 'the labels option' };
  const c = config !== null && typeof config === 'object' ? (config as Record<string, unknown>) : {};
  // The answer-list file belongs to VQA heads: other heads' outputs are fixed by their task.
  const architecture = Array.isArray(c['architectures']) ? c['architectures'][0] : VQA_ARCHITECTURE;
  const wantsAnswerFile = c['id2label'] === undefined && architecture === VQA_ARCHITECTURE;
  const path = option ?? (wantsAnswerFile ? findLabelFile(dir) : undefined);
  if (path === undefined) return {};
  const json = readJsonAt(path, option === undefined ? 'the answer list' : 'given as the labels option');
  return { labels: parseLabelList(json, path), labelsName: path };
}

/**
 * Reads a checkpoint directory's files as viltFromFiles takes them (either layout; see LoadViltOptions), without
 * validating them. The id is the weights file's real path, size and mtime (for shards: the index's path, the
 * total size and the latest mtime).
 */
export function readViltFiles(dir: string, options: LoadViltOptions = {}): ViltFiles {
  const { at, ...small } = readSmallFiles(dir, options);
  return { ...small, ...readWeights(dir, at) };
}

/** A checkpoint directory's files but the weights (located, not read), as readViltFiles gives them. */
function readSmallFiles(
  dir: string,
  options: LoadViltOptions,
): Omit<ViltFiles, 'weights'> & { readonly at: WeightsLocation } {
  if (typeof dir !== 'string' || dir.length === 0)
    throw new PumerError('CHECKPOINT', 'loadVilt needs a checkpoint directory path');
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(dir);
  } catch (err) {
    throw new PumerError('CHECKPOINT', `checkpoint directory "${dir}" does not exist`, { cause: err });
  }
  if (!stat.isDirectory()) throw new PumerError('CHECKPOINT', `"${dir}" is not a directory`);
  const at = locateWeights(dir);
  const id = fileSetId(at.files);
  const config = readJson(dir, 'config.json');
  return {
    at,
    config,
    weightsName: at.weightsName,
    tokenizer: resolveTokenizer(dir, options.tokenizer),
    preprocessor: optionalJson(dir, 'preprocessor_config.json'),
    ...resolveLabels(dir, config, options.labels),
    id,
  };
}

/** A PumerError of loading `dir`, naming it. */
function inDir(dir: string, err: unknown): unknown {
  return err instanceof PumerError ? new PumerError(err.code, `${dir}: ${err.message}`, { cause: err }) : err;
}

/**
 * Loads and validates a checkpoint directory (either layout; see LoadViltOptions for what the authors'
 * layout needs). The model id is readViltFiles'.
 */
export function loadVilt(dir: string, options: LoadViltOptions = {}): LoadedVilt {
  const started = performance.now();
  const { at, ...small } = readSmallFiles(dir, options);
  const memoDir = options.memo === undefined ? checkpointMemoDirFromEnv() : options.memo;
  const memo = memoDir
    ? CheckpointMemo.open(memoDir, { weightFiles: at.files, config: small.config, labels: small.labels })
    : null;
  const full = (): LoadedVilt => {
    try {
      return viltFromFiles({ ...small, ...readWeights(dir, at) });
    } catch (err) {
      throw inDir(dir, err);
    }
  };
  let loaded: LoadedVilt;
  const known = memo?.config;
  if (memo && known) {
    // The files are as a full load saw them: read the weights when first needed, and check them then.
    const weights = () => {
      const now = full();
      if (JSON.stringify(now.config) !== JSON.stringify(known)) {
        memo.forget();
        throw new PumerError(
          'CHECKPOINT',
          `${dir}: the weights no longer match what an earlier load of the same files found (changed in place?); load the checkpoint again`,
        );
      }
      return now.model.weights;
    };
    try {
      loaded = viltWithLazyWeights(small, known, weights);
    } catch (err) {
      throw inDir(dir, err);
    }
    Object.defineProperty(loaded.model, CONTENT_MEMO, { value: memo });
  } else {
    loaded = full();
    if (memo) {
      memo.remember(loaded.config);
      Object.defineProperty(loaded.model, CONTENT_MEMO, { value: memo });
    }
  }
  return { ...loaded, loadMs: performance.now() - started };
}
