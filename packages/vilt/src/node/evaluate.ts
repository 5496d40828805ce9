import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  type Backend,
  type FloatTensor,
  floatTensor,
  intTensor,
  PumerError,
  type ReductionConfig,
  resolveBackend,
  resolveSchedule,
  type ScheduleChoice,
} from '@pumer/core';
import type { LoadedVilt } from '../model.js';
import { rankAnswers } from '../pipeline.js';
import { resolveModel, stackImages } from '../pipeline-shared.js';
import { prepareImage } from '../preprocessor.js';
import { decodeImageFile } from './decode.js';

/**
 * VQA accuracy on a JSONL eval set (one {image, question, answer[, input_ids, attention_mask]} per line,
 * image paths relative to the file), with any schedule on any backend. The CLI's `pumer eval` wraps this.
 */

export interface EvalExample {
  /** Absolute image path. */
  readonly image: string;
  readonly question: string;
  readonly answer: string;
  /** The reference tokenizer's ids and mask, when the file carries them. */
  readonly inputIds?: readonly number[];
  readonly attentionMask?: readonly number[];
}

export interface EvalSet {
  readonly path: string;
  readonly examples: readonly EvalExample[];
}

export function loadEvalSet(path: string): EvalSet {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PumerError(
      'VALUE',
      `cannot read eval set "${path}": ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  const base = dirname(path);
  const examples: EvalExample[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let row: Record<string, unknown>;
    try {
      row = JSON.parse(line) as Record<string, unknown>;
    } catch (err) {
      throw new PumerError('VALUE', `${path}:${i + 1}: not valid JSON`, { cause: err });
    }
    for (const field of ['image', 'question', 'answer'] as const) {
      if (typeof row[field] !== 'string')
        throw new PumerError('VALUE', `${path}:${i + 1}: field "${field}" must be a string`);
    }
    const ints = (v: unknown) =>
      Array.isArray(v) && v.every((x) => Number.isInteger(x)) ? (v as number[]) : undefined;
    examples.push({
      image: resolve(base, row['image'] as string),
      question: row['question'] as string,
      answer: row['answer'] as string,
      inputIds: ints(row['input_ids']),
      attentionMask: ints(row['attention_mask']),
    });
  });
  if (examples.length === 0) throw new PumerError('VALUE', `eval set "${path}" has no examples`);
  return { path, examples };
}

export interface EvaluateOptions {
  /** A checkpoint directory or a loaded model. */
  readonly model: string | LoadedVilt;
  /** An eval.jsonl path or a set loaded with loadEvalSet. */
  readonly data: string | EvalSet;
  /** 'model' (default), a name from core's `scheduleNames()`, null (unreduced) or a ReductionConfig. */
  readonly schedule?: ScheduleChoice;
  /** A registered backend name, 'auto' or a Backend; absent: core's active backend, or the `auto` pick. */
  readonly backend?: string | Backend;
  /** Examples per backend call (default 50). */
  readonly batchSize?: number;
  /** Only the first `limit` examples. */
  readonly limit?: number;
  /** Return the logits of every example ([n, numLabels]). */
  readonly returnLogits?: boolean;
  readonly onProgress?: (done: number, total: number) => void;
  /** Largest image decoded, in pixels (default DEFAULT_MAX_PIXELS); larger ones are refused from their header. */
  readonly maxPixels?: number;
}

export interface EvaluateResult {
  /** Fraction of examples whose top answer equals the reference answer. */
  readonly accuracy: number;
  readonly n: number;
  /** The predicted label of every example. */
  readonly predictions: readonly string[];
  readonly logits?: FloatTensor;
  /** Rows whose tokenisation differs from the input_ids / attention_mask stored in the eval set. */
  readonly tokenizerMismatches: number;
  readonly schedule: ReductionConfig | null;
  /** Which backend ran, and on what. */
  readonly backend: { readonly name: string; readonly provider: string };
  readonly seconds: number;
}

const sameArray = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((v, i) => v === b[i]);

export async function evaluate(options: EvaluateOptions): Promise<EvaluateResult> {
  const started = performance.now();
  const loaded = resolveModel(options.model);
  const set = typeof options.data === 'string' ? loadEvalSet(options.data) : options.data;
  const backend = await resolveBackend(options.backend);
  const schedule = resolveSchedule(options.schedule, {
    numLayers: loaded.config.geometry.numLayers,
    modelSchedule: loaded.reduction,
  }).config;
  const batchSize = options.batchSize ?? 50;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new PumerError('VALUE', `batchSize must be a positive integer, got ${batchSize}`);
  const limit = options.limit ?? set.examples.length;
  if (!Number.isInteger(limit) || limit < 1)
    throw new PumerError('VALUE', `limit must be a positive integer, got ${limit}`);
  const examples = set.examples.slice(0, limit);
  const labels = loaded.model.labels;
  const numLabels = labels.length;
  const window = loaded.tokenizer.window;
  const predictions: string[] = new Array(examples.length);
  const logits = options.returnLogits ? new Float32Array(examples.length * numLabels) : null;
  let mismatches = 0;
  let correct = 0;
  for (let start = 0; start < examples.length; start += batchSize) {
    const batch = examples.slice(start, start + batchSize).map((ex, j) => {
      const text = loaded.tokenizer.encode(ex.question);
      if (
        (ex.inputIds && !sameArray(ex.inputIds, text.inputIds)) ||
        (ex.attentionMask && !sameArray(ex.attentionMask, text.attentionMask))
      ) {
        mismatches++;
      }
      return {
        index: start + j,
        ex,
        text,
        pixels: prepareImage(
          decodeImageFile(ex.image, { maxPixels: options.maxPixels }),
          loaded.preprocessor,
          ex.image,
        ),
      };
    });
    // One backend call per image shape (eval sets are normally all one size).
    const byShape = new Map<string, typeof batch>();
    for (const item of batch) {
      const key = item.pixels.shape.join('x');
      byShape.set(key, [...(byShape.get(key) ?? []), item]);
    }
    for (const group of byShape.values()) {
      const out = await backend.runVilt(
        loaded.model,
        {
          inputIds: intTensor(
            group.flatMap((g) => g.text.inputIds),
            [group.length, window],
          ),
          attentionMask: intTensor(
            group.flatMap((g) => g.text.attentionMask),
            [group.length, window],
          ),
          pixelValues: stackImages(group.map((g) => g.pixels)),
        },
        schedule,
      );
      group.forEach((g, b) => {
        const row = out.logits.data.subarray(b * numLabels, (b + 1) * numLabels);
        // The pipeline's ranking: a NaN logit is refused, never taken as the answer.
        const [best] = rankAnswers(row, labels, 1);
        predictions[g.index] = best.label;
        if (best.label === g.ex.answer) correct++;
        logits?.set(row, g.index * numLabels);
      });
    }
    options.onProgress?.(Math.min(start + batchSize, examples.length), examples.length);
  }
  const info = backend.info();
  return {
    accuracy: correct / examples.length,
    n: examples.length,
    predictions,
    ...(logits ? { logits: floatTensor(logits, [examples.length, numLabels]) } : {}),
    tokenizerMismatches: mismatches,
    schedule,
    backend: { name: info.name, provider: info.provider },
    seconds: (performance.now() - started) / 1000,
  };
}
