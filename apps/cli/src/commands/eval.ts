import path from 'node:path';
import type { Backend, ResolvedSchedule, ViltTask } from '@pumer/core';
import type { LoadedVilt } from '@pumer/vilt';
import { type BackendReport, backendLine, backendReport, backendWarning } from '../backend-report.js';
import { CliError } from '../errors.js';
import { fixed, percent, signedPoints } from '../format.js';
import { type CliIO, colorsFor, writeJson } from '../io.js';
import {
  activateBackend,
  checkFile,
  isMeterDir,
  loadMeterModel,
  loadModel,
  modelFileOptions,
  vilt,
} from '../loaders.js';
import { createProgress } from '../progress.js';
import { type ScheduleFlags, scheduleFromFlags, scheduleLine } from '../schedule-flags.js';
import { TASK_TITLES } from '../tasks.js';
import { meterEvalRunner } from '../eval/meter-eval.js';
import type { Recall } from '../eval/recall.js';
import { loadTaskSet } from '../eval/task-data.js';
import { runTaskEval } from '../eval/task-eval.js';

/** `--schedule` and the override flags of `pumer run` (`--layers --prune … --training-free`). */
export interface EvalCommandOptions extends ScheduleFlags {
  model: string;
  data: string;
  /** The task the data is for: vqa, ve, nlvr2 or retrieval (default: the checkpoint's). */
  task?: ViltTask;
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
  /** VQA, VE, NLVR2: share of correct answers. */
  accuracy?: number;
  /** Retrieval: recall@1/5/10, text → image and image → text. */
  recall?: Recall;
  n: number;
  /** VQA, VE, NLVR2: each example's answer; retrieval: each caption's best image (index). */
  predictions: (string | number)[];
  /** Retrieval: each image's best caption (index). */
  imagePredictions?: number[];
  seconds: number;
  /** Examples (retrieval: pairs) per second over the whole run (image decoding and tokenising included), after a warm-up batch. */
  throughput: number;
  tokenizerMismatches: number;
}

export interface EvalReport {
  task: ViltTask;
  /** 'meter' for a METER checkpoint (the schedule is over its co-attention steps); absent: ViLT. */
  family?: 'meter';
  /** Accuracy, n and predictions of the run with the requested schedule (VQA, VE, NLVR2). */
  accuracy?: number;
  /** Retrieval: recall@1/5/10 both ways, with the requested schedule. */
  recall?: Recall;
  n: number;
  predictions: (string | number)[];
  /** Retrieval: each image's best caption (index). */
  imagePredictions?: number[];
  schedule: EvalRun['schedule'];
  /** What throughput counts: examples (an NLVR2 example is two image passes) or, for retrieval, (caption, image) pairs. */
  throughputUnit: 'examples/s' | 'pairs/s';
  throughput: number | { reduced: number; unreduced: number; speedup: number };
  /** Without reduction; absent when the requested schedule is itself unreduced. */
  unreduced?: {
    accuracy?: number;
    recall?: Recall;
    predictions: (string | number)[];
    imagePredictions?: number[];
    throughput: number;
  };
  /** Fraction of identical answers with and without the reduction (retrieval: identical best matches, both ways). */
  agreement?: number;
  /** Which backend ran, on what, and why it was the one (`auto`'s pick, or --backend). */
  backend: BackendReport;
  model: string;
  data: string;
  tokenizerMismatches: number;
}

/** One schedule's pass over the eval set (a warm-up pass when `limit` is one batch). */
type ScheduleRunner = (
  schedule: ResolvedSchedule,
  limit: number,
  onProgress?: (done: number, total: number) => void,
) => Promise<Omit<EvalRun, 'throughput'>>;

/** VQA: @pumer/vilt's evaluate. */
async function vqaRunner(
  opts: EvalCommandOptions,
  loaded: LoadedVilt,
  backend: Backend,
  dataFile: string,
): Promise<{ runner: ScheduleRunner; size: number }> {
  const { evaluate, loadEvalSet } = await vilt();
  let set: ReturnType<typeof loadEvalSet>;
  try {
    set = loadEvalSet(dataFile);
  } catch (err) {
    throw new CliError(`cannot read eval data ${dataFile}: ${(err as Error).message}`, { cause: err });
  }
  const runner: ScheduleRunner = async (run, limit, onProgress) => {
    const r = await evaluate({
      model: loaded,
      data: set,
      schedule: run.config,
      backend,
      batchSize: opts.batchSize,
      limit,
      maxPixels: opts.maxPixels,
      ...(onProgress ? { onProgress } : {}),
    });
    return {
      schedule: run,
      accuracy: r.accuracy,
      n: r.n,
      predictions: [...r.predictions],
      seconds: r.seconds,
      tokenizerMismatches: r.tokenizerMismatches,
    };
  };
  return { runner, size: set.examples.length };
}

/** VE, NLVR2, retrieval: the task's pipeline over its JSONL format (eval/task-data.ts). */
function taskRunner(
  opts: EvalCommandOptions,
  loaded: LoadedVilt,
  backend: Backend,
  dataFile: string,
  task: Exclude<ViltTask, 'vqa'>,
): { runner: ScheduleRunner; size: number } {
  const set = loadTaskSet(dataFile, task);
  const runner: ScheduleRunner = async (run, limit, onProgress) => {
    const r = await runTaskEval({
      loaded,
      set,
      schedule: run.config,
      backend,
      batchSize: opts.batchSize,
      limit,
      maxPixels: opts.maxPixels,
      ...(onProgress ? { onProgress } : {}),
    });
    return {
      schedule: run,
      ...(r.accuracy !== undefined ? { accuracy: r.accuracy } : {}),
      ...(r.recall ? { recall: r.recall } : {}),
      n: r.n,
      predictions: r.predictions,
      ...(r.imagePredictions ? { imagePredictions: r.imagePredictions } : {}),
      // Throughput counts pairs for retrieval: seconds per unit of work, whatever the task.
      seconds: (r.seconds * r.n) / r.units,
      tokenizerMismatches: r.tokenizerMismatches,
    };
  };
  return { runner, size: set.rows.length };
}

/** The share of identical best answers of two runs (retrieval: both directions together). */
function agreementOf(a: Omit<EvalRun, 'throughput'>, b: Omit<EvalRun, 'throughput'>): number {
  const pairs: [unknown, unknown][] = a.predictions.map((p, i) => [p, b.predictions[i]]);
  a.imagePredictions?.forEach((p, i) => {
    pairs.push([p, b.imagePredictions?.[i]]);
  });
  return pairs.filter(([x, y]) => x === y).length / pairs.length;
}

/** The checkpoint as eval needs it, ViLT or METER: its task, depth, own schedule and a runner factory. */
interface EvalModel {
  readonly family: 'vilt' | 'meter';
  readonly task: ViltTask;
  readonly architecture: string;
  /** ViLT's layers, METER's co-attention steps: what the schedule resolves over. */
  readonly depth: number;
  readonly reduction: LoadedVilt['reduction'];
  runner(task: ViltTask, backend: Backend): Promise<{ runner: ScheduleRunner; size: number }>;
}

async function evalModel(
  opts: EvalCommandOptions,
  io: CliIO,
  modelDir: string,
  dataFile: string,
): Promise<EvalModel> {
  const files = modelFileOptions(io.cwd, opts);
  if (await isMeterDir(modelDir)) {
    const loaded = await loadMeterModel(modelDir, files);
    return {
      family: 'meter',
      task: loaded.model.task,
      architecture: loaded.config.architecture,
      depth: loaded.model.geometry.numSteps,
      reduction: loaded.reduction,
      runner: (task, backend) =>
        meterEvalRunner({
          loaded,
          backend,
          dataFile,
          task,
          batchSize: opts.batchSize,
          maxPixels: opts.maxPixels,
        }),
    };
  }
  const loaded = await loadModel(modelDir, files);
  return {
    family: 'vilt',
    task: loaded.model.task,
    architecture: loaded.config.architecture,
    depth: loaded.config.geometry.numLayers,
    reduction: loaded.reduction,
    runner: async (task, backend) =>
      task === 'vqa'
        ? vqaRunner(opts, loaded, backend, dataFile)
        : taskRunner(opts, loaded, backend, dataFile, task),
  };
}

export async function evaluateModel(opts: EvalCommandOptions, io: CliIO): Promise<EvalReport> {
  const modelDir = path.resolve(io.cwd, opts.model);
  const dataFile = checkFile(path.resolve(io.cwd, opts.data), 'eval data');
  const model = await evalModel(opts, io, modelDir, dataFile);
  const own = model.task;
  const task = opts.task ?? own;
  if (task !== own)
    throw new CliError(
      `--task ${task}, but ${modelDir} is a ${TASK_TITLES[own]} checkpoint (${model.architecture}): give a ${TASK_TITLES[task]} checkpoint, or --task ${own}`,
    );
  const resolved = scheduleFromFlags(opts, model.depth, model.reduction, model.family);
  const { backend, reason } = await activateBackend(opts.backend);
  const { runner, size } = await model.runner(task, backend);
  const n = Math.min(opts.limit ?? size, size);
  const runs: ResolvedSchedule[] = [resolved];
  if (resolved.config)
    runs.push(scheduleFromFlags({ schedule: 'unreduced' }, model.depth, null, model.family));
  const progress = createProgress(io, !opts.json && io.stderrIsTTY, 'eval');
  const results: EvalRun[] = [];
  // One untimed batch per schedule first, so graph compilation and JIT warm-up don't land on whichever runs first.
  for (const run of runs) await runner(run, Math.min(task === 'retrieval' ? 2 : opts.batchSize, n));
  try {
    for (let k = 0; k < runs.length; k++) {
      const r = await runner(runs[k]!, n, (done, total) =>
        progress.update(k * total + done, runs.length * total),
      );
      results.push({ ...r, throughput: r.n / r.seconds });
    }
  } finally {
    progress.stop();
  }
  const main = results[0]!;
  const base = results[1];
  const info = backend.info();
  const report: EvalReport = {
    task,
    ...(model.family === 'meter' ? { family: 'meter' as const } : {}),
    ...(main.accuracy !== undefined ? { accuracy: main.accuracy } : {}),
    ...(main.recall ? { recall: main.recall } : {}),
    n: main.n,
    predictions: main.predictions,
    ...(main.imagePredictions ? { imagePredictions: main.imagePredictions } : {}),
    schedule: main.schedule,
    throughputUnit: task === 'retrieval' ? 'pairs/s' : 'examples/s',
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
      ...(base.accuracy !== undefined ? { accuracy: base.accuracy } : {}),
      ...(base.recall ? { recall: base.recall } : {}),
      predictions: base.predictions,
      ...(base.imagePredictions ? { imagePredictions: base.imagePredictions } : {}),
      throughput: base.throughput,
    };
    report.agreement = agreementOf(main, base);
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
  const what = r.task === 'retrieval' ? `${r.n} captions × ${r.n} images` : `${r.n} examples`;
  io.out(
    `${c.dim('model   ')} ${r.model}\n${c.dim('task    ')} ${TASK_TITLES[r.task]}\n${c.dim('data    ')} ${r.data} (${what})\n`,
  );
  io.out(backendLine(r.backend, c));
  io.out(`${c.dim('schedule')} ${scheduleLine(r.schedule, r.family)}\n\n`);
  const unit = r.throughputUnit;
  if (r.recall) {
    const rows = (rec: Recall) =>
      (['textToImage', 'imageToText'] as const).map((way) => {
        const k = rec[way];
        return `${percent(k.r1)} / ${percent(k.r5)} / ${percent(k.r10)}`;
      });
    const reduced = rows(r.recall);
    const plain = r.unreduced?.recall ? rows(r.unreduced.recall) : null;
    const label = ['text→image', 'image→text'];
    io.out(`recall@1 / @5 / @10${plain ? '  reduced | unreduced' : ''}\n`);
    label.forEach((l, i) => {
      io.out(`  ${l}  ${c.bold(reduced[i]!)}${plain ? `  |  ${plain[i]}` : ''}\n`);
    });
  }
  if (typeof r.throughput === 'number') {
    if (r.accuracy !== undefined) io.out(`accuracy    ${c.bold(percent(r.accuracy))}\n`);
    io.out(`throughput  ${fixed(r.throughput, 1)} ${unit}\n`);
  } else {
    if (r.accuracy !== undefined && r.unreduced?.accuracy !== undefined)
      io.out(
        `accuracy    ${c.bold(percent(r.accuracy))} reduced, ${percent(r.unreduced.accuracy)} unreduced (${signedPoints(r.accuracy - r.unreduced.accuracy)} points vs unreduced)\n`,
      );
    io.out(
      `agreement   ${percent(r.agreement!)} of ${r.task === 'retrieval' ? 'best matches (both ways)' : 'answers'} identical\n`,
    );
    io.out(
      `throughput  ${fixed(r.throughput.reduced, 1)} ${unit} reduced, ${fixed(r.throughput.unreduced, 1)} unreduced (${fixed(r.throughput.speedup, 2)}×, end to end incl. image decoding, after a warm-up batch)\n`,
    );
  }
  if (r.tokenizerMismatches > 0)
    io.out(
      c.yellow(`note: ${r.tokenizerMismatches} rows tokenised differently from the ids stored in the data\n`),
    );
}
