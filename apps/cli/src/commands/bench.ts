import path from 'node:path';
import { schedule, type ViltTask } from '@pumer/core';
import { benchMarkdown } from '../bench/markdown.js';
import { machineInfo } from '../bench/machine.js';
import {
  benchCommandLine,
  benchNotes,
  peakRssMiB,
  timedRowFigures,
  timedRowLine,
  timeInterleaved,
  writeReportFiles,
} from '../bench/interleaved-run.js';
import { syntheticInputs } from '../bench/inputs.js';
import { timeReduceSteps } from '../bench/reducer-share.js';
import { median } from '../bench/stats.js';
import { benchSvg } from '../bench/svg.js';
import {
  cacheDir,
  ensureSyntheticCheckpoint,
  imageWidth,
  modelGeometry,
  reportPath,
  SYNTHETIC_GEOMETRIES,
  taskImages,
} from '../bench/synthetic.js';
import { type BenchReport, type BenchRow, type ReducerShare, THROUGHPUT_UNITS } from '../bench/types.js';
import { CliError } from '../errors.js';
import { fixed } from '../format.js';
import { type CliIO, colorsFor, writeJson } from '../io.js';
import { loadModel, nodeReducerShare, vilt } from '../loaders.js';
import { scheduleFromFlags } from '../schedule-flags.js';

export interface BenchCommandOptions {
  geometry: string;
  /** The head timed (default vqa): NLVR2 runs two image passes per example, retrieval scores pairs. */
  task?: ViltTask;
  batch: number[];
  /** Registered backend names or `auto` (the default: onnxruntime-node in Node). */
  backend: string[];
  /** Default: unreduced,paper,aggressive on vilt-b32; unreduced,pumer,aggressive on tiny. */
  schedules?: string[];
  repeats: number;
  warmup: number;
  /** Default: docs/bench, or docs/bench/<task> for a task other than VQA. */
  out?: string;
  seed: number;
  json?: boolean;
  /** Memory instead of speed: every configuration in a process of its own (commands/bench-memory.ts). */
  memory?: boolean;
  /** Time to the first answer instead: fresh `pumer run` processes, cold and warm graph cache (commands/bench-startup.ts). */
  startup?: boolean;
  /** --startup: tries per graph cache state (default 5). */
  tries?: number;
}

/** Where the report goes: --out, else docs/bench (VQA) or docs/bench/<task>. */
export function benchOutDir(o: Pick<BenchCommandOptions, 'out' | 'task'>): string {
  const task = o.task ?? 'vqa';
  return o.out ?? (task === 'vqa' ? 'docs/bench' : `docs/bench/${task}`);
}

/** A note on stderr, except under --json. */
export function benchNote(opts: Pick<BenchCommandOptions, 'json'>, io: CliIO): (s: string) => void {
  return (s) => {
    if (!opts.json) io.err(`${s}\n`);
  };
}

/**
 * The ViLT geometry of `--geometry` and its synthetic checkpoint, written to the cache unless there already
 * (`pumer bench` and `pumer bench --memory`), and the schedules timed on it.
 */
export async function syntheticViltBench(opts: BenchCommandOptions, io: CliIO, note: (s: string) => void) {
  const g = SYNTHETIC_GEOMETRIES[opts.geometry];
  if (!g)
    throw new CliError(
      `unknown geometry "${opts.geometry}" (expected one of ${Object.keys(SYNTHETIC_GEOMETRIES).join(', ')})`,
    );
  const { defaultModelDir, writeSafetensors } = await vilt();
  const task = opts.task ?? 'vqa';
  const { dir, created } = ensureSyntheticCheckpoint({
    geometry: g,
    task,
    seed: opts.seed,
    cache: cacheDir(io.env),
    tokenizerJsonPath: path.join(defaultModelDir(), 'tokenizer.json'),
    writeSafetensors,
  });
  note(`${created ? 'wrote' : 'reusing'} synthetic ${g.name} ${task} checkpoint: ${dir}`);
  // Named schedules scale to the depth (docs/schedules.md): each default is the one written for it.
  const scheduleNames =
    opts.schedules ??
    (g.numLayers >= 12 ? ['unreduced', 'paper', 'aggressive'] : ['unreduced', 'pumer', 'aggressive']);
  return { g, task, dir, scheduleNames };
}

/**
 * Writes a synthetic checkpoint for the geometry, loads it with the normal loader, and times every
 * backend × batch × schedule interleaved in this one process. Measures; asserts nothing.
 */
export async function runBench(opts: BenchCommandOptions, io: CliIO): Promise<BenchReport> {
  const note = benchNote(opts, io);
  const { g, task, dir, scheduleNames } = await syntheticViltBench(opts, io, note);
  const loaded = await loadModel(dir);
  const model = loaded.model;
  const geometry = modelGeometry(g);
  const schedules = scheduleNames.map((name) => scheduleFromFlags({ schedule: name }, g.numLayers));

  const times = await timeInterleaved(
    model,
    opts,
    io,
    schedules,
    (batch) =>
      syntheticInputs(
        batch,
        g.textTokens,
        model.geometry.vocabSize,
        g.imageSize,
        opts.seed + batch,
        taskImages(task),
        imageWidth(g),
      ),
    note,
  );

  const rows: BenchRow[] = [];
  for (const m of times.measured) {
    const c = m.configuration;
    const figures = timedRowFigures(m, times);
    const ideal = schedule(geometry, c.config).idealSpeedup;
    let reducerShare: ReducerShare | null = null;
    if (c.config) {
      if (c.backendName === 'node') {
        reducerShare = await nodeReducerShare(c.backend, model, c.inputs, c.config);
      } else if (c.backendName === 'cpu') {
        const reduceMs = await timeReduceSteps(c.backend, geometry, c.config, c.batch);
        reducerShare = {
          share: Math.min(1, reduceMs / median(m.runsMs)),
          method:
            "the CPU backend's own Pruner and Merger timed at each reduce layer's exact shapes and counts (saliency, top-k, gathering kept rows, image merge, text merge; median of 15 after 2 untimed passes), divided by the median forward time",
        };
      }
    }
    rows.push({
      ...figures,
      idealSpeedup: ideal,
      achievedOverIdeal: figures.speedup === null ? null : figures.speedup / ideal,
      peakRssMiB: peakRssMiB(m),
      reducerShare,
    });
  }

  return {
    format: 'pumer-bench/1',
    command: benchCommandLine(opts, scheduleNames, benchOutDir(opts)),
    task,
    throughputUnit: THROUGHPUT_UNITS[task],
    date: new Date().toISOString(),
    machine: machineInfo(),
    geometry: {
      name: g.name,
      ...geometry,
      imageSize: g.imageSize,
      ...(g.imageWidth ? { imageWidth: g.imageWidth } : {}),
      patchSize: g.patchSize,
    },
    checkpoint: reportPath(dir),
    repeats: opts.repeats,
    warmup: opts.warmup,
    seed: opts.seed,
    rows,
    rssMethod: times.rssMethod,
    processMaxRssMiB: times.processMaxRssMiB(),
    notes: benchNotes(opts.repeats),
  };
}

export async function benchCommand(opts: BenchCommandOptions, io: CliIO): Promise<void> {
  // METER's geometries have their own synthetic checkpoint, schedules and report (commands/bench-meter.ts).
  const meterBench = await import('./bench-meter.js');
  if (meterBench.isMeterBenchGeometry(opts.geometry)) return meterBench.meterBenchCommand(opts, io);
  if (opts.startup) {
    const { benchStartupCommand } = await import('./bench-startup.js');
    return benchStartupCommand(opts, io);
  }
  if (opts.memory) {
    const { benchMemoryCommand } = await import('./bench-memory.js');
    return benchMemoryCommand(opts, io);
  }
  const report = await runBench(opts, io);
  const outDir = path.resolve(io.cwd, benchOutDir(opts));
  const files = writeReportFiles(
    outDir,
    {
      'bench.json': `${JSON.stringify(report, null, 2)}\n`,
      'bench.md': benchMarkdown(report),
      'bench.svg': benchSvg(report),
    },
    'benchmark',
  );
  if (opts.json) {
    writeJson(io, { ...report, files });
    return;
  }
  const c = colorsFor(io, false);
  for (const r of report.rows) {
    const speed =
      r.speedup === null
        ? ''
        : `  speed-up ${c.green(`${fixed(r.speedup, 2)}×`)} (ideal ${fixed(r.idealSpeedup, 2)}×)`;
    const share = r.reducerShare ? `  reducer ${fixed(100 * r.reducerShare.share, 1)}%` : '';
    io.out(`${timedRowLine(r, report.throughputUnit, 10)}${speed}${share}\n`);
  }
  io.out(`wrote ${path.join(outDir, 'bench.json')}, bench.md, bench.svg\n`);
}
