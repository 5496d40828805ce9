import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ViltTask } from '@pumer/core';
import { CliError } from '../errors.js';

/**
 * The JSONL eval sets of the tasks other than VQA (VQA's is read by @pumer/vilt's loadEvalSet), one row per
 * line, image paths relative to the file:
 * - VE: `{"image", "text", "label"}`, label one of the checkpoint's classes (contradiction, neutral, entailment);
 * - NLVR2: `{"images": [left, right], "text", "label": true|false}`;
 * - retrieval: `{"image", "text"}`, caption i describing image i (every other image is a negative).
 * Rows may carry the reference tokenizer's `input_ids` / `attention_mask`, which are compared with ours.
 */

export interface TaskRow {
  /** Absolute image paths: one, or left and right (NLVR2). */
  readonly images: readonly string[];
  readonly text: string;
  /** VE: the class; NLVR2: the truth value; retrieval: none. */
  readonly label?: string | boolean;
  readonly inputIds?: readonly number[];
  readonly attentionMask?: readonly number[];
}

export interface TaskSet {
  readonly path: string;
  readonly task: Exclude<ViltTask, 'vqa'>;
  readonly rows: readonly TaskRow[];
}

const ints = (v: unknown) =>
  Array.isArray(v) && v.every((x) => Number.isInteger(x)) ? (v as number[]) : undefined;

export function loadTaskSet(file: string, task: TaskSet['task']): TaskSet {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read eval data ${file}: ${(err as Error).message}`, { cause: err });
  }
  const base = path.dirname(file);
  const rows: TaskRow[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const at = `${file}:${i + 1}`;
    let row: Record<string, unknown>;
    try {
      row = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new CliError(`${at}: not valid JSON`);
    }
    if (row === null || typeof row !== 'object' || Array.isArray(row))
      throw new CliError(`${at}: each line must be a JSON object`);
    if (typeof row['text'] !== 'string' || row['text'].trim() === '')
      throw new CliError(`${at}: field "text" must be a non-empty string`);
    let images: string[];
    if (task === 'nlvr2') {
      const given = row['images'] ?? (row['image'] !== undefined ? [row['image']] : undefined);
      if (!Array.isArray(given) || given.length !== 2 || !given.every((g) => typeof g === 'string'))
        throw new CliError(
          `${at}: NLVR2 rows need "images": [left, right], two image paths (got ${Array.isArray(given) ? `${given.length} image${given.length === 1 ? '' : 's'}` : 'none'})`,
        );
      images = given as string[];
    } else {
      if (typeof row['image'] !== 'string') throw new CliError(`${at}: field "image" must be a string`);
      images = [row['image']];
    }
    let label: string | boolean | undefined;
    if (task === 've') {
      if (typeof row['label'] !== 'string')
        throw new CliError(`${at}: field "label" must be a string (entailment, neutral or contradiction)`);
      label = row['label'];
    } else if (task === 'nlvr2') {
      if (typeof row['label'] !== 'boolean') throw new CliError(`${at}: field "label" must be true or false`);
      label = row['label'];
    }
    rows.push({
      images: images.map((f) => path.resolve(base, f)),
      text: row['text'],
      ...(label !== undefined ? { label } : {}),
      ...(ints(row['input_ids']) ? { inputIds: ints(row['input_ids']) } : {}),
      ...(ints(row['attention_mask']) ? { attentionMask: ints(row['attention_mask']) } : {}),
    });
  });
  if (rows.length === 0) throw new CliError(`eval data ${file} has no examples`);
  return { path: file, task, rows };
}
