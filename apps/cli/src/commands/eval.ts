import path from 'node:path';
import type { ResolvedSchedule } from '@pumer/core';
import { type BackendReport, backendLine, backendReport, backendWarning } from '../backend-report.js';
import { CliError } from '../errors.js';
import { fixed, percent, signedPoints } from '../format.js';
import { type CliIO, colorsFor, writeJson } from '../io.js';
import { activateBackend, checkFile, loadModel, modelFileOptions, vilt } from '../loaders.js';
import { createProgress } from '../progress.js';
import { scheduleFromFlags, scheduleLine } from '../schedule-flags.js';

export interface EvalCommandOptions {
  model: string;
  data: string;
  /** A JSON label list (index -> answer) replacing the checkpoint's labels (the authors' VQA answers). */
  labels?: string;
  /** tokenizer.json or a folder holding one (the authors' checkpoints ship none). */
  tokenizer?: string;
  /** A name core's schedule registry knows; `model` (the default) is no reduction on a checkpoint without one. */
  schedule: string;
  /** A registered backend name or `auto` (the default). */
  backend: string;
  limit?: number;
  batchSize: number;
  /** Largest image decoded (pixels); absent: the decoder's default. */
  maxPixels?: number;
  json?: boolean;
}

export interface EvalRun {
  schedule: ResolvedSchedule;
  accuracy: number;
  n: number;
  predictions: string[];
  seconds: number;
  /** Examples per second over the whole run (image decoding and tokenising included), after a warm-up batch. */
  throughput: number;
  tokenizerMismatches: number;
}

export interface EvalReport {
  /** Accuracy, n and predictions of the run with the requested schedule. */
  accuracy: number;
  n: number;
  predictions: string[];
  schedule: EvalRun['schedule'];
  throughput: number | { reduced: number; unreduced: number; speedup: number };
  /** Without reduction; absent when the requested schedule is itself unreduced. */
  unreduced?: { accuracy: number; predictions: string[]; throughput: number };
  /** Fraction of examples where the reduced and unreduced runs give the same answer. */
  agreement?: number;
  /** Which backend ran, on what, and why it was the one (`auto`'s pick, or --backend). */
  backend: BackendReport;
  model: string;
  data: string;
  tokenizerMismatches: number;
}

export async function evaluateModel(opts: EvalCommandOptions, io: CliIO): Promise<EvalReport> {
  const modelDir = path.resolve(io.cwd, opts.model);
  const dataFile = checkFile(path.resolve(io.cwd, opts.data), 'eval data');
  const loaded = await loadModel(modelDir, modelFileOptions(io.cwd, opts));
  const resolved = scheduleFromFlags(
    { schedule: opts.schedule },
    loaded.config.geometry.numLayers,
    loaded.reduction,
  );
  const { backend, reason } = await activateBackend(opts.backend);
  const { evaluate, loadEvalSet } = await vilt();
  let set: ReturnType<typeof loadEvalSet>;
  try {
    set = loadEvalSet(dataFile);
  } catch (err) {
    throw new CliError(`cannot read eval data ${dataFile}: ${(err as Error).message}`, { cause: err });
  }
  const n = Math.min(opts.limit ?? set.examples.length, set.examples.length);
  const runs: ResolvedSchedule[] = [resolved];
  if (resolved.config)
    runs.push(scheduleFromFlags({ schedule: 'unreduced' }, loaded.config.geometry.numLayers));
  const progress = createProgress(io, !opts.json && io.stderrIsTTY, 'eval');
  const results: EvalRun[] = [];
  // One untimed batch per schedule first, so graph compilation and JIT warm-up don't land on whichever runs first.
  for (const run of runs) {
    await evaluate({
      model: loaded,
      data: set,
      schedule: run.config,
      backend,
      batchSize: opts.batchSize,
      limit: Math.min(opts.batchSize, n),
      maxPixels: opts.maxPixels,
    });
  }
  try {
    for (let k = 0; k < runs.length; k++) {
      const run = runs[k]!;
      const r = await evaluate({
        model: loaded,
        data: set,
        schedule: run.config,
        backend,
        batchSize: opts.batchSize,
        limit: n,
        maxPixels: opts.maxPixels,
        onProgress: (done) => progress.update(k * n + done, runs.length * n),
      });
      results.push({
        schedule: run,
        accuracy: r.accuracy,
        n: r.n,
        predictions: [...r.predictions],
        seconds: r.seconds,
        throughput: r.n / r.seconds,
        tokenizerMismatches: r.tokenizerMismatches,
      });
    }
  } finally {
    progress.stop();
  }
  const main = results[0]!;
  const base = results[1];
  const info = backend.info();
  const report: EvalReport = {
    accuracy: main.accuracy,
    n: main.n,
    predictions: main.predictions,
    schedule: main.schedule,
    throughput: base
      ? { reduced: main.throughput, unreduced: base.throughput, speedup: main.throughput / base.throughput }
      : main.throughput,
    backend: backendReport(info, reason),
    model: modelDir,
    data: dataFile,
    tokenizerMismatches: main.tokenizerMismatches,
  };
  if (base) {
    report.unreduced = {
      accuracy: base.accuracy,
      predictions: base.predictions,
      throughput: base.throughput,
    };
    report.agreement = main.predictions.filter((p, i) => p === base.predictions[i]).length / main.n;
  }
  return report;
}

export async function evalCommand(opts: EvalCommandOptions, io: CliIO): Promise<void> {
  const r = await evaluateModel(opts, io);
  io.err(backendWarning(r.backend));
  if (opts.json) {
    writeJson(io, r);
    return;
  }
  const c = colorsFor(io, false);
  io.out(`${c.dim('model   ')} ${r.model}\n${c.dim('data    ')} ${r.data} (${r.n} examples)\n`);
  io.out(backendLine(r.backend, c));
  io.out(`${c.dim('schedule')} ${scheduleLine(r.schedule)}\n\n`);
  if (typeof r.throughput === 'number') {
    io.out(`accuracy    ${c.bold(percent(r.accuracy))}\nthroughput  ${fixed(r.throughput, 1)} examples/s\n`);
  } else {
    io.out(
      `accuracy    ${c.bold(percent(r.accuracy))} reduced, ${percent(r.unreduced!.accuracy)} unreduced (${signedPoints(r.accuracy - r.unreduced!.accuracy)} points vs unreduced)\n`,
    );
    io.out(`agreement   ${percent(r.agreement!)} of answers identical\n`);
    io.out(
      `throughput  ${fixed(r.throughput.reduced, 1)} examples/s reduced, ${fixed(r.throughput.unreduced, 1)} unreduced (${fixed(r.throughput.speedup, 2)}×, end to end incl. image decoding, after a warm-up batch)\n`,
    );
  }
  if (r.tokenizerMismatches > 0)
    io.out(
      c.yellow(`note: ${r.tokenizerMismatches} rows tokenised differently from the ids stored in the data\n`),
    );
}
