import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  type Backend,
  describeSchedule,
  type ModelGeometry,
  namedSchedule,
  type ReductionConfig,
  reductionConfigToReference,
  type ViltInputs,
} from '@pumer/core';
import type { LoadedVilt } from '@pumer/vilt';
import { type BackendReport, backendLine, backendReport, backendWarning } from '../backend-report.js';
import { measureInterleaved } from '../bench/measure.js';
import { median } from '../bench/stats.js';
import { CliError } from '../errors.js';
import { fixed, percent, signedPoints, table } from '../format.js';
import { type CliIO, colorsFor, writeJson } from '../io.js';
import { activateBackend, benchBackend, checkFile, loadModel, modelFileOptions, vilt } from '../loaders.js';
import { createProgress } from '../progress.js';
import { frontierSvg } from '../tune/frontier-svg.js';
import { configKey, defaultSpace, type TuneSpace } from '../tune/space.js';
import { speedupOf, type TunePoint, type TuneResult, tuneSchedules } from '../tune/search.js';

/**
 * `pumer tune` (docs/tuning.md): the schedule with the highest measured throughput on a backend whose accuracy
 * drop on the user's calibration set stays within a budget, written into a copy of the checkpoint so that
 * `--schedule model` runs it.
 */

export interface TuneCommandOptions {
  model: string;
  /** Calibration set, VQA JSONL ({image, question, answer}). */
  data: string;
  /** Largest accuracy drop, in points. */
  maxDrop: number;
  backend: string;
  /** Where the tuned checkpoint copy, tune.json and frontier.svg go. */
  out: string;
  labels?: string;
  tokenizer?: string;
  /** Only the first n calibration rows. */
  limit?: number;
  batchSize: number;
  /** Methods kept after the screening. */
  methods: number;
  /** Standard errors added to a measured drop before it is held against the budget. */
  margin: number;
  /** Measured speed-ups within this fraction of the fastest count as equal (the most accurate wins). */
  tie: number;
  /** Timing rounds per timed schedule. */
  repeats: number;
  /** A smaller search space (tests, quick looks): layer sets of one layer, fewer ratios. */
  quick?: boolean;
  json?: boolean;
}

export interface TunePointReport {
  schedule: string;
  config: ReductionConfig;
  accuracy: number;
  /** Drop in points plus the margin's standard errors: what the budget judged. */
  dropBound: number;
  predictedSpeedup: number;
  measuredSpeedup?: number;
  withinBudget: boolean;
}

export interface TuneReport {
  model: string;
  data: string;
  n: number;
  backend: BackendReport;
  maxDrop: number;
  margin: number;
  unreducedAccuracy: number;
  reference: TunePointReport;
  chosen: TunePointReport | null;
  frontier: TunePointReport[];
  points: TunePointReport[];
  evaluations: number;
  seconds: number;
  /** Files written. */
  files: { config: string; report: string; chart: string };
}

/** Calibration rows, decoded and tokenised once, as backend batches; and their answers. */
interface Calibration {
  readonly batches: readonly ViltInputs[];
  readonly answers: readonly string[];
}

async function loadCalibration(
  loaded: LoadedVilt,
  dataFile: string,
  limit: number | undefined,
  batchSize: number,
) {
  const { loadEvalSet, decodeImageFile, prepareImage, stackImages } = await vilt();
  let set: ReturnType<typeof loadEvalSet>;
  try {
    set = loadEvalSet(dataFile);
  } catch (err) {
    throw new CliError(`cannot read calibration data ${dataFile}: ${(err as Error).message}`, { cause: err });
  }
  const examples = set.examples.slice(0, limit ?? set.examples.length);
  if (examples.length === 0) throw new CliError(`calibration data ${dataFile} has no rows`);
  const batches: ViltInputs[] = [];
  for (let start = 0; start < examples.length; start += batchSize) {
    const rows = examples.slice(start, start + batchSize);
    const { inputIds, attentionMask } = loaded.tokenizer.encodeBatch(rows.map((ex) => ex.question));
    batches.push({
      inputIds,
      attentionMask,
      pixelValues: stackImages(
        rows.map((ex) => prepareImage(decodeImageFile(ex.image), loaded.preprocessor, ex.image)),
      ),
    });
  }
  return { batches, answers: examples.map((ex) => ex.answer) } satisfies Calibration;
}

async function calibrationCorrect(
  backend: Backend,
  loaded: LoadedVilt,
  cal: Calibration,
  config: ReductionConfig | null,
): Promise<boolean[]> {
  const { rankAnswers } = await vilt();
  const labels = loaded.model.labels;
  const correct: boolean[] = [];
  let row = 0;
  for (const inputs of cal.batches) {
    const { logits } = await backend.runVilt(loaded.model, inputs, config);
    const [B, L] = logits.shape as [number, number];
    // The pipeline's ranking, so a schedule is scored on the answer `pumer run` and `pumer eval` would give.
    for (let b = 0; b < B; b++, row++)
      correct.push(
        rankAnswers(logits.data.subarray(b * L, (b + 1) * L), labels, 1)[0]!.label === cal.answers[row],
      );
  }
  return correct;
}

function geometryOf(loaded: LoadedVilt, inputs: ViltInputs): ModelGeometry {
  const g = loaded.config.geometry;
  const [, , h, w] = inputs.pixelValues.shape as [number, number, number, number];
  return {
    numLayers: g.numLayers,
    hiddenSize: g.hiddenSize,
    numHeads: g.numHeads,
    intermediateSize: g.intermediateSize,
    textTokens: loaded.tokenizer.window,
    imageTokens: Math.floor(h / g.patchSize) * Math.floor(w / g.patchSize) + 1,
  };
}

/** The quick space: one reduce layer, two prune and three merge ratios (what the tests run). */
function quickSpace(numLayers: number): TuneSpace {
  const full = defaultSpace(numLayers);
  return {
    ...full,
    layerSets: full.layerSets.filter((s) => s.length === 1),
    prune: [0.1, 0.3],
    merge: [0, 0.3, 0.5],
  };
}

function pointReport(p: TunePoint): TunePointReport {
  return {
    schedule: describeSchedule(p.config),
    config: p.config,
    accuracy: p.accuracy,
    dropBound: p.dropBound,
    predictedSpeedup: p.predictedSpeedup,
    ...(p.measuredSpeedup !== undefined ? { measuredSpeedup: p.measuredSpeedup } : {}),
    withinBudget: p.withinBudget,
  };
}

/** A copy of the checkpoint folder with the chosen schedule as config.json's "pumer" section (none: removed). */
function writeTunedCheckpoint(modelDir: string, outDir: string, chosen: ReductionConfig | null): string {
  mkdirSync(outDir, { recursive: true });
  for (const name of readdirSync(modelDir)) {
    const from = path.join(modelDir, name);
    if (name !== 'config.json' && statSync(from).isFile()) copyFileSync(from, path.join(outDir, name));
  }
  const config = JSON.parse(readFileSync(path.join(modelDir, 'config.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  if (chosen) config['pumer'] = { ...reductionConfigToReference(chosen), attention: 'pumer-soft' };
  else delete config['pumer'];
  const file = path.join(outDir, 'config.json');
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
}

export async function tuneModel(opts: TuneCommandOptions, io: CliIO): Promise<TuneReport> {
  const started = performance.now();
  const modelDir = path.resolve(io.cwd, opts.model);
  const dataFile = checkFile(path.resolve(io.cwd, opts.data), 'calibration data');
  const outDir = path.resolve(io.cwd, opts.out);
  if (path.resolve(outDir) === path.resolve(modelDir))
    throw new CliError('--out must be another folder than --model: tune writes a copy of the checkpoint');
  if (!(opts.maxDrop >= 0))
    throw new CliError(`--max-drop must be a number of points >= 0, got ${opts.maxDrop}`);
  const loaded = await loadModel(modelDir, modelFileOptions(io.cwd, opts));
  if (loaded.model.task !== 'vqa')
    throw new CliError(
      `pumer tune runs on VQA checkpoints for now; ${modelDir} is a ${loaded.model.task} checkpoint`,
    );
  const { backend, name, reason } = await activateBackend(opts.backend);
  const cal = await loadCalibration(loaded, dataFile, opts.limit, opts.batchSize);
  const numLayers = loaded.config.geometry.numLayers;
  const geometry = geometryOf(loaded, cal.batches[0]!);
  const reference = loaded.reduction ?? namedSchedule('pumer', numLayers);
  if (!reference) throw new CliError('no reference schedule: the `pumer` schedule is not registered');
  const progress = createProgress(io, !opts.json && io.stderrIsTTY, 'tune');
  // Timing: one batch of the calibration rows, every schedule and the unreduced model in turn, on a backend
  // instance whose graph cache holds them all.
  const timeInputs = cal.batches[0]!;
  const speedups = async (configs: readonly ReductionConfig[]) => {
    // The accuracy search is over: release its sessions first. Left open, they slowed every timed run of the
    // tiny model by ~10% and the ratios with it (1.24–1.31× instead of 1.37–1.42× for the same schedule).
    // The backend builds sessions again if it is used after this.
    await backend.dispose?.();
    const timer = await benchBackend(name, configs.length + 1, io.env);
    try {
      const all = [null, ...configs].map((config) => ({
        backendName: name,
        backend: timer,
        batch: timeInputs.inputIds.shape[0]!,
        schedule: configKey(config),
        config,
        inputs: timeInputs,
      }));
      const runs = await measureInterleaved(loaded.model, all, { repeats: opts.repeats, warmup: 2 });
      const base = median(runs[0]!.runsMs);
      return runs.slice(1).map((m) => base / median(m.runsMs));
    } finally {
      if (timer !== backend) await timer.dispose?.();
    }
  };
  let result: TuneResult;
  try {
    result = await tuneSchedules(
      {
        geometry,
        space: opts.quick ? quickSpace(numLayers) : defaultSpace(numLayers),
        reference,
        maxDrop: opts.maxDrop,
        margin: opts.margin,
        tie: opts.tie,
        keepMethods: opts.methods,
        onProgress: (done, total) => progress.update(done, total),
      },
      { correct: (config) => calibrationCorrect(backend, loaded, cal, config), speedups },
    );
  } finally {
    progress.stop();
  }
  const configFile = writeTunedCheckpoint(modelDir, outDir, result.chosen?.config ?? null);
  const chart = path.join(outDir, 'frontier.svg');
  writeFileSync(
    chart,
    frontierSvg(
      result,
      `pumer tune: ${path.basename(modelDir)} on ${name}, ${cal.answers.length} calibration rows`,
    ),
  );
  const reportFile = path.join(outDir, 'tune.json');
  const report: TuneReport = {
    model: modelDir,
    data: dataFile,
    n: cal.answers.length,
    backend: backendReport(backend.info(), reason),
    maxDrop: opts.maxDrop,
    margin: opts.margin,
    unreducedAccuracy: result.unreducedAccuracy,
    reference: pointReport(result.reference),
    chosen: result.chosen ? pointReport(result.chosen) : null,
    frontier: result.frontier.map(pointReport),
    points: result.points.map(pointReport),
    evaluations: result.evaluations,
    seconds: (performance.now() - started) / 1000,
    files: { config: configFile, report: reportFile, chart },
  };
  writeFileSync(reportFile, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

function row(p: TunePointReport, base: number): string[] {
  return [
    p.schedule,
    percent(p.accuracy),
    signedPoints(p.accuracy - base),
    fixed(p.dropBound, 2),
    `${fixed(p.predictedSpeedup, 2)}×`,
    p.measuredSpeedup !== undefined ? `${fixed(p.measuredSpeedup, 2)}×` : '-',
  ];
}

export async function tuneCommand(opts: TuneCommandOptions, io: CliIO): Promise<void> {
  const r = await tuneModel(opts, io);
  io.err(backendWarning(r.backend));
  if (opts.json) {
    writeJson(io, r);
    return;
  }
  const c = colorsFor(io, false);
  io.out(`${c.dim('model   ')} ${r.model}\n${c.dim('data    ')} ${r.data} (${r.n} calibration rows)\n`);
  io.out(backendLine(r.backend, c));
  io.out(
    `${c.dim('budget  ')} ${percent(r.unreducedAccuracy)} unreduced, at most ${r.maxDrop} point(s) lower (drops judged with ${r.margin} standard error(s) added)\n` +
      `${c.dim('searched')} ${r.evaluations} schedules evaluated in ${fixed(r.seconds, 1)} s\n\n`,
  );
  const header = ['schedule', 'accuracy', 'points', 'judged drop', 'predicted', 'measured'];
  io.out(`frontier (speed-up vs accuracy; measured = timed side by side with unreduced)\n`);
  io.out(
    table(
      header,
      r.frontier.map((p) => row(p, r.unreducedAccuracy)),
    ),
  );
  io.out(`\nreference ${row(r.reference, r.unreducedAccuracy).join('  ')}\n`);
  if (r.chosen) {
    io.out(
      `${c.bold('chosen')}    ${r.chosen.schedule}: ${percent(r.chosen.accuracy)} (${signedPoints(r.chosen.accuracy - r.unreducedAccuracy)} points), ${fixed(speedupOf({ ...r.chosen, stage: 'search' } as TunePoint), 2)}× measured\n`,
    );
  } else {
    io.out(c.yellow('no schedule was within the budget and faster: the copy keeps the model unreduced\n'));
  }
  io.out(
    `\nwrote ${r.files.config} (run it with --model ${path.dirname(r.files.config)} --schedule model)\n      ${r.files.report}\n      ${r.files.chart}\n`,
  );
}
