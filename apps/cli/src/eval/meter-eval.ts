import type { Backend, ResolvedSchedule, ViltTask } from '@pumer/core';
import type { LoadedMeter } from '@pumer/meter';
import { CliError } from '../errors.js';
import { vilt } from '../loaders.js';
import { type Recall, retrievalRecall } from './recall.js';
import { loadTaskSet, type TaskRow } from './task-data.js';

/**
 * `pumer eval` on a METER checkpoint: the same eval files as for ViLT (VQA's eval.jsonl, the other tasks'
 * JSONL of eval/task-data.ts) through @pumer/meter's pipelines on a given backend, timed end to end (image
 * decoding and tokenising included). Token ids stored in the data are the ViLT reference tokenizer's, not
 * RoBERTa's, so they are not compared here (`tokenizerMismatches` is 0).
 */

export interface MeterEvalRun {
  readonly schedule: ResolvedSchedule;
  readonly accuracy?: number;
  readonly recall?: Recall;
  readonly n: number;
  readonly predictions: (string | number)[];
  readonly imagePredictions?: number[];
  /** Seconds per example (retrieval: scaled to captions, as the ViLT runner does). */
  readonly seconds: number;
  readonly tokenizerMismatches: number;
}

export interface MeterEvalOptions {
  readonly loaded: LoadedMeter;
  readonly backend: Backend;
  readonly dataFile: string;
  readonly task: ViltTask;
  readonly batchSize: number;
  readonly maxPixels?: number;
}

/** One schedule's pass over the first `limit` rows. */
export type MeterScheduleRunner = (
  schedule: ResolvedSchedule,
  limit: number,
  onProgress?: (done: number, total: number) => void,
) => Promise<MeterEvalRun>;

/** VQA rows from @pumer/vilt's eval.jsonl reader, the other tasks' from eval/task-data.ts, as TaskRows. */
async function rowsOf(o: MeterEvalOptions): Promise<readonly TaskRow[]> {
  if (o.task !== 'vqa') return loadTaskSet(o.dataFile, o.task).rows;
  const { loadEvalSet } = await vilt();
  try {
    return loadEvalSet(o.dataFile).examples.map((e) => ({
      images: [e.image],
      text: e.question,
      label: e.answer,
    }));
  } catch (err) {
    throw new CliError(`cannot read eval data ${o.dataFile}: ${(err as Error).message}`, { cause: err });
  }
}

export async function meterEvalRunner(
  o: MeterEvalOptions,
): Promise<{ runner: MeterScheduleRunner; size: number }> {
  const all = await rowsOf(o);
  const { createMeterPipeline } = await import('@pumer/meter/node');
  const { decodeImageFile } = await vilt();
  const decode = (f: string) => decodeImageFile(f, { maxPixels: o.maxPixels });
  const labels = o.loaded.model.labels;
  if (o.task === 've') {
    const bad = all.find((r) => !labels.includes(r.label as string));
    if (bad)
      throw new CliError(
        `${o.dataFile}: label "${String(bad.label)}" is not one of the checkpoint's classes (${labels.join(', ')})`,
      );
  }

  const runner: MeterScheduleRunner = async (schedule, limit, onProgress) => {
    const started = performance.now();
    const rows = all.slice(0, limit);
    const n = rows.length;
    const options = { backend: o.backend, reduction: schedule.config };
    const done = (
      r: Omit<MeterEvalRun, 'schedule' | 'seconds' | 'tokenizerMismatches'>,
      units: number,
    ): MeterEvalRun => ({
      schedule,
      ...r,
      seconds: ((performance.now() - started) / 1000) * (n / units),
      tokenizerMismatches: 0,
    });
    if (o.task === 'retrieval') {
      const pipeline = await createMeterPipeline(o.loaded, { ...options, task: 'retrieval' });
      const ranked = await pipeline.rank({
        texts: rows.map((r) => r.text),
        images: rows.map((r) => decode(r.images[0]!)),
        topK: 1,
        batchSize: o.batchSize,
        onProgress: (p) => onProgress?.(p.done, p.total),
      });
      return done(
        {
          recall: retrievalRecall(ranked.scores, n),
          n,
          predictions: ranked.textToImage.map((m) => m[0]!.index),
          imagePredictions: ranked.imageToText.map((m) => m[0]!.index),
        },
        n * n,
      );
    }
    const predictions: string[] = [];
    let correct = 0;
    // One batch's predicted labels, and whether each is right.
    let classify: (batch: readonly TaskRow[]) => Promise<{ label: string; right: boolean }[]>;
    if (o.task === 'vqa') {
      const pipeline = await createMeterPipeline(o.loaded, { ...options, task: 'vqa' });
      classify = async (batch) =>
        (
          await pipeline.answerBatch(
            batch.map((r) => ({ image: decode(r.images[0]!), question: r.text })),
            { topK: 1 },
          )
        ).map((res, j) => ({
          label: res.answers[0]!.label,
          right: res.answers[0]!.label === batch[j]!.label,
        }));
    } else if (o.task === 've') {
      const pipeline = await createMeterPipeline(o.loaded, { ...options, task: 've' });
      classify = async (batch) =>
        (
          await pipeline.predictBatch(batch.map((r) => ({ image: decode(r.images[0]!), hypothesis: r.text })))
        ).map((res, j) => ({ label: res.label, right: res.label === batch[j]!.label }));
    } else {
      const pipeline = await createMeterPipeline(o.loaded, { ...options, task: 'nlvr2' });
      classify = async (batch) =>
        (
          await pipeline.predictBatch(
            batch.map((r) => ({
              images: [decode(r.images[0]!), decode(r.images[1]!)] as const,
              statement: r.text,
            })),
          )
        ).map((res, j) => ({ label: res.label, right: res.value === batch[j]!.label }));
    }
    for (let start = 0; start < n; start += o.batchSize) {
      const batch = rows.slice(start, start + o.batchSize);
      for (const { label, right } of await classify(batch)) {
        predictions.push(label);
        if (right) correct++;
      }
      onProgress?.(start + batch.length, n);
    }
    return done({ accuracy: correct / n, n, predictions }, n);
  };
  return { runner, size: all.length };
}
