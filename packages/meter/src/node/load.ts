import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PumerError } from '@pumer/core';
import { CHECKPOINT_FILE_NAMES, parseLabelList } from '@pumer/vilt';
import { isMeterConfig } from '../config.js';
import { METER_CHECKPOINT_FILE_NAMES } from '../convert.js';
import { type LoadedMeter, type MeterFiles, meterFromFiles } from '../model.js';
import { bundledTokenizerPath } from './assets.js';

/**
 * Reads a METER checkpoint directory: config.json, text_config.json (absent: roberta-base's), the weights
 * (model.safetensors, else pytorch_model.bin) and the tokenizer (the tokenizer option, else the folder's
 * tokenizer.json, else a bundled one of the name config.json gives, such as the tiny models' `tiny-roberta`).
 */

export interface LoadMeterOptions {
  /** tokenizer.json: its path, a folder holding one, or its parsed contents. */
  readonly tokenizer?: string | object;
  /** The label of each head output: a JSON list file (index -> label) or the list itself. */
  readonly labels?: string | readonly string[];
}

const NEEDS = 'a METER checkpoint needs config.json and model.safetensors or pytorch_model.bin';

/** Single weight files in order of preference: safetensors is preferred (no pickle, no zip to unpack). */
const WEIGHT_FILE_NAMES = [CHECKPOINT_FILE_NAMES.safetensors, CHECKPOINT_FILE_NAMES.torch];

function readBytes(path: string, needs: string): Uint8Array {
  try {
    const b = readFileSync(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : err instanceof Error ? err.message : String(err);
    throw new PumerError('CHECKPOINT', `${path}: ${why} (${needs})`, { cause: err });
  }
}

function readJson(path: string, needs = NEEDS): unknown {
  const text = Buffer.from(readBytes(path, needs)).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new PumerError('CHECKPOINT', `${path}: not valid JSON (${msg})`, { cause: err });
  }
}

const isDirectory = (path: string) => existsSync(path) && statSync(path).isDirectory();

function resolveTokenizer(dir: string, config: unknown, option: LoadMeterOptions['tokenizer']): unknown {
  if (option !== undefined && typeof option !== 'string') return option;
  if (option !== undefined)
    return readJson(
      isDirectory(option) ? join(option, 'tokenizer.json') : option,
      'given as the tokenizer option',
    );
  const own = join(dir, METER_CHECKPOINT_FILE_NAMES.tokenizer);
  if (existsSync(own)) return readJson(own);
  const named = (config as { tokenizer?: unknown } | null)?.tokenizer;
  const bundled = typeof named === 'string' ? bundledTokenizerPath(named) : null;
  return bundled ? readJson(bundled, `the bundled ${named} tokenizer`) : undefined;
}

function resolveLabels(option: LoadMeterOptions['labels']): Pick<MeterFiles, 'labels' | 'labelsName'> {
  if (option === undefined) return {};
  if (typeof option !== 'string')
    return { labels: parseLabelList(option, 'the labels option'), labelsName: 'the labels option' };
  return {
    labels: parseLabelList(readJson(option, 'given as the labels option'), option),
    labelsName: option,
  };
}

/** Whether `dir` holds a METER checkpoint: a config.json whose `model_type` is "meter". Never throws. */
export function isMeterCheckpoint(dir: string): boolean {
  try {
    const path = join(dir, METER_CHECKPOINT_FILE_NAMES.config);
    return existsSync(path) && isMeterConfig(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    return false;
  }
}

/** A checkpoint directory's files as meterFromFiles takes them, without validating them. */
export function readMeterDir(dir: string, options: LoadMeterOptions = {}): MeterFiles {
  if (typeof dir !== 'string' || dir.length === 0)
    throw new PumerError('CHECKPOINT', 'loadMeter needs a checkpoint directory path');
  if (!existsSync(dir)) throw new PumerError('CHECKPOINT', `checkpoint directory "${dir}" does not exist`);
  if (!isDirectory(dir)) throw new PumerError('CHECKPOINT', `"${dir}" is not a directory`);
  const weightsName = WEIGHT_FILE_NAMES.find((n) => existsSync(join(dir, n)));
  if (weightsName === undefined)
    throw new PumerError(
      'CHECKPOINT',
      `checkpoint directory "${dir}" has no weights: expected ${WEIGHT_FILE_NAMES.join(' or ')}`,
    );
  const config = readJson(join(dir, METER_CHECKPOINT_FILE_NAMES.config));
  const textConfigPath = join(dir, METER_CHECKPOINT_FILE_NAMES.textConfig);
  const tokenizer = resolveTokenizer(dir, config, options.tokenizer);
  return {
    config,
    ...(existsSync(textConfigPath) ? { textConfig: readJson(textConfigPath) } : {}),
    weights: readBytes(join(dir, weightsName), NEEDS),
    weightsName,
    ...(tokenizer !== undefined ? { tokenizer } : {}),
    ...resolveLabels(options.labels),
  };
}

/** Loads and validates a METER checkpoint directory; the model id is a fingerprint of the weights' bytes. */
export function loadMeter(dir: string, options: LoadMeterOptions = {}): LoadedMeter {
  const files = readMeterDir(dir, options);
  try {
    return meterFromFiles(files);
  } catch (err) {
    if (err instanceof PumerError) throw new PumerError(err.code, `${dir}: ${err.message}`, { cause: err });
    throw err;
  }
}
