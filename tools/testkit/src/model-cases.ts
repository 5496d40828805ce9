import { cpSync, readdirSync, readFileSync, utimesSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type FloatTensor, floatTensor, intTensor, type ViltInputs } from '@pumer/core';
import type { ModelParityScheduleName } from './model-schedules.js';
import { sharedPath } from './shared-data.js';

/**
 * The model cases of the reference data: the tiny ShapesVQA checkpoints, the eval set they were scored on
 * and the PyTorch reference run (reference.json) — read without @pumer/vilt, so every package can use them.
 */

export const MODEL_CHECKPOINTS = ['tiny-vilt-shapes', 'tiny-vilt-shapes-pumer'] as const;
export type ModelCheckpoint = (typeof MODEL_CHECKPOINTS)[number];

export function modelsDir(): string {
  return sharedPath('models');
}

/** A checkpoint directory (config.json, model.safetensors, tokenizer.json, preprocessor_config.json). */
export function checkpointDir(name: ModelCheckpoint): string {
  return sharedPath('models', name);
}

/** An hour ago: older than the checkpoint memo's "just modified" window, as a checkpoint on disk usually is. */
export function settledTime(): Date {
  return new Date(Date.now() - 3600_000);
}

/** A private copy of a checkpoint at `dir`, every file modified an hour ago (settledTime), to modify at will. */
export function settledCheckpointCopy(name: ModelCheckpoint, dir: string): string {
  cpSync(checkpointDir(name), dir, { recursive: true });
  for (const f of readdirSync(dir)) utimesSync(join(dir, f), settledTime(), settledTime());
  return dir;
}

/** The ShapesVQA eval set, one {image, question, answer, input_ids, attention_mask} JSON object a line. */
export function evalSetPath(): string {
  return sharedPath('models', 'shapesvqa-eval', 'eval.jsonl');
}

export function referencePath(): string {
  return sharedPath('models', 'reference.json');
}

/** One schedule's run of the PyTorch reference on the eval set. */
export interface ReferenceRun {
  /** The reference's own names (read with core's reductionConfigFromReference); null: unreduced. */
  readonly config: Record<string, unknown> | null;
  readonly accuracy: number;
  readonly n: number;
  readonly predictions: readonly string[];
  /** Logits of the first 64 examples, in label order. */
  readonly logits: readonly (readonly number[])[];
}

export type Reference = Readonly<
  Record<ModelCheckpoint, Readonly<Record<ModelParityScheduleName, ReferenceRun>>>
>;

let reference: Reference | undefined;

/** reference.json (read once). */
export function readReference(): Reference {
  reference ??= JSON.parse(readFileSync(referencePath(), 'utf8')) as Reference;
  return reference;
}

/** The reference logits of the first `rows` examples, [rows, labels]. */
export function referenceLogits(
  model: ModelCheckpoint,
  schedule: ModelParityScheduleName,
  rows: number,
): FloatTensor {
  const all = readReference()[model][schedule].logits.slice(0, rows);
  return floatTensor(all.flat(), [all.length, all[0]!.length]);
}

/** One eval row; `image` is an absolute path. */
export interface EvalRow {
  readonly image: string;
  readonly question: string;
  readonly answer: string;
  /** The reference tokenizer's ids and mask. */
  readonly inputIds: readonly number[];
  readonly attentionMask: readonly number[];
}

/** The first `count` rows of the eval set (all of them by default). */
export function evalRows(count?: number): EvalRow[] {
  const path = evalSetPath();
  const base = dirname(path);
  const rows = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(0, count)
    .map((line, i) => {
      const r = JSON.parse(line) as Record<string, unknown>;
      const ints = (k: string) => {
        const v = r[k];
        if (!Array.isArray(v) || !v.every(Number.isInteger))
          throw new Error(`${path}:${i + 1}: ${k} must be an array of integers`);
        return v as number[];
      };
      return {
        image: resolve(base, String(r['image'])),
        question: String(r['question']),
        answer: String(r['answer']),
        inputIds: ints('input_ids'),
        attentionMask: ints('attention_mask'),
      };
    });
  if (count !== undefined && rows.length < count)
    throw new Error(`${path} has ${rows.length} rows, ${count} asked for`);
  return rows;
}

/**
 * Rows as one batch with the reference token ids. `prepareImage` turns an image path into the model's
 * [3, H, W] pixel values (the caller's @pumer/vilt: `prepareImage(decodeImageFile(p), m.preprocessor, p)`).
 */
export function evalBatch(rows: readonly EvalRow[], prepareImage: (path: string) => FloatTensor): ViltInputs {
  const window = rows[0]!.inputIds.length;
  const images = rows.map((r) => prepareImage(r.image));
  const per = images[0]!.data.length;
  const pixels = new Float32Array(rows.length * per);
  images.forEach((img, i) => {
    if (img.shape.join() !== images[0]!.shape.join())
      throw new Error(`${rows[i]!.image}: pixel shape [${img.shape.join(', ')}] differs from the batch's`);
    pixels.set(img.data, i * per);
  });
  return {
    inputIds: intTensor(
      rows.flatMap((r) => r.inputIds),
      [rows.length, window],
    ),
    attentionMask: intTensor(
      rows.flatMap((r) => r.attentionMask),
      [rows.length, window],
    ),
    pixelValues: floatTensor(pixels, [rows.length, ...images[0]!.shape]),
  };
}
