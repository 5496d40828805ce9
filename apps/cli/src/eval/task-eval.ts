import type { Backend, ReductionConfig } from '@pumer/core';
import type { LoadedVilt } from '@pumer/vilt';
import { CliError } from '../errors.js';
import { vilt } from '../loaders.js';
import { type Recall, retrievalRecall } from './recall.js';
import type { TaskRow, TaskSet } from './task-data.js';

/**
 * One schedule over a VE, NLVR2 or retrieval eval set, through the task's pipeline on a given backend. Timed
 * end to end (image decoding and tokenising included), as VQA's `evaluate`.
 */

export interface TaskRunOptions {
  readonly loaded: LoadedVilt;
  readonly set: TaskSet;
  readonly schedule: ReductionConfig | null;
  readonly backend: Backend;
  /** Examples (retrieval: pairs) per model call. */
  readonly batchSize: number;
  /** The first `limit` rows (retrieval: an n × n matrix of the first n captions and images). */
  readonly limit: number;
  readonly maxPixels?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface TaskRunResult {
  /** VE, NLVR2: share of examples whose predicted class is the label. */
  readonly accuracy?: number;
  /** Retrieval: recall@1/5/10 both ways. */
  readonly recall?: Recall;
  /** Examples (retrieval: captions) evaluated. */
  readonly n: number;
  /** VE, NLVR2: each example's predicted label; retrieval: each caption's best image (index). */
  readonly predictions: (string | number)[];
  /** Retrieval: each image's best caption (index). */
  readonly imagePredictions?: number[];
  /** Forward passes' worth of work: examples (NLVR2: pairs of images, two passes each); retrieval: pairs. */
  readonly units: number;
  readonly seconds: number;
  readonly tokenizerMismatches: number;
}

const sameArray = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((v, i) => v === b[i]);

function countMismatches(loaded: LoadedVilt, rows: readonly TaskRow[]): number {
  let mismatches = 0;
  for (const row of rows) {
    const text = loaded.tokenizer.encode(row.text);
    if (
      (row.inputIds && !sameArray(row.inputIds, text.inputIds)) ||
      (row.attentionMask && !sameArray(row.attentionMask, text.attentionMask))
    )
      mismatches++;
  }
  return mismatches;
}

export async function runTaskEval(o: TaskRunOptions): Promise<TaskRunResult> {
  const started = performance.now();
  const { createPipeline, decodeImageFile } = await vilt();
  const rows = o.set.rows.slice(0, o.limit);
  const decode = (f: string) => decodeImageFile(f, { maxPixels: o.maxPixels });
  const pipelineOptions = { model: o.loaded, backend: o.backend, reduction: o.schedule };
  const tokenizerMismatches = countMismatches(o.loaded, rows);
  const n = rows.length;

  if (o.set.task === 'retrieval') {
    const pipeline = await createPipeline('retrieval', pipelineOptions);
    const ranked = await pipeline.rank({
      texts: rows.map((r) => r.text),
      images: rows.map((r) => decode(r.images[0]!)),
      topK: 1,
      batchSize: o.batchSize,
      onProgress: ({ done, total }) => o.onProgress?.(done, total),
    });
    return {
      recall: retrievalRecall(ranked.scores, n),
      n,
      predictions: ranked.textToImage.map((m) => m[0]!.index),
      imagePredictions: ranked.imageToText.map((m) => m[0]!.index),
      units: n * n,
      seconds: (performance.now() - started) / 1000,
      tokenizerMismatches,
    };
  }

  const labels = o.loaded.model.labels;
  const predictions: string[] = [];
  let correct = 0;
  if (o.set.task === 've') {
    const pipeline = await createPipeline('ve', pipelineOptions);
    for (const row of rows) {
      if (!labels.includes(row.label as string))
        throw new CliError(
          `${o.set.path}: label "${String(row.label)}" is not one of the checkpoint's classes (${labels.join(', ')})`,
        );
    }
    for (let start = 0; start < n; start += o.batchSize) {
      const batch = rows.slice(start, start + o.batchSize);
      const results = await pipeline.predictBatch(
        batch.map((r) => ({ image: decode(r.images[0]!), hypothesis: r.text })),
      );
      results.forEach((res, j) => {
        predictions.push(res.label);
        if (res.label === batch[j]!.label) correct++;
      });
      o.onProgress?.(start + batch.length, n);
    }
  } else {
    const pipeline = await createPipeline('nlvr2', pipelineOptions);
    for (let start = 0; start < n; start += o.batchSize) {
      const batch = rows.slice(start, start + o.batchSize);
      const results = await pipeline.predictBatch(
        batch.map((r) => ({
          images: [decode(r.images[0]!), decode(r.images[1]!)] as const,
          statement: r.text,
        })),
      );
      results.forEach((res, j) => {
        predictions.push(res.label);
        if (res.value === batch[j]!.label) correct++;
      });
      o.onProgress?.(start + batch.length, n);
    }
  }
  return {
    accuracy: correct / n,
    n,
    predictions,
    units: n,
    seconds: (performance.now() - started) / 1000,
    tokenizerMismatches,
  };
}
