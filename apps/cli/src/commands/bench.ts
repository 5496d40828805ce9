import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  AUTO_BACKEND,
  activeBackend,
  type Backend,
  type ModelGeometry,
  schedule,
  type ViltTask,
} from '@pumer/core';
import { benchMarkdown } from '../bench/markdown.js';
import { machineInfo } from '../bench/machine.js';
import { type Configuration, measureInterleaved, rssProbe } from '../bench/measure.js';
import { syntheticInputs } from '../bench/inputs.js';
import { timeReduceSteps } from '../bench/reducer-share.js';
import { median, percentile } from '../bench/stats.js';
import { benchSvg } from '../bench/svg.js';
import {
  cacheDir,
  ensureSyntheticCheckpoint,
  imageTokens,
  imageWidth,
  SYNTHETIC_GEOMETRIES,
  taskImages,
} from '../bench/synthetic.js';
import { type BenchReport, type BenchRow, type ReducerShare, THROUGHPUT_UNITS } from '../bench/types.js';
import { CliError } from '../errors.js';
import { fixed } from '../format.js';
import { type CliIO, colorsFor, writeJson } from '../io.js';
import { activateBackend, benchBackend, loadModel, nodeReducerShare, vilt } from '../loaders.js';
import { createProgress } from '../progress.js';
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

const MiB = 1024 * 1024;

/** Where the report goes: --out, else docs/bench (VQA) or docs/bench/<task>. */
export function benchOutDir(o: Pick<BenchCommandOptions, 'out' | 'task'>): string {
  const task = o.task ?? 'vqa';
  return o.out ?? (task === 'vqa' ? 'docs/bench' : `docs/bench/${task}`);
}

/** The command line that reproduces a run, for the report. */
function commandLine(o: BenchCommandOptions, schedules: readonly string[]): string {
  const task = o.task && o.task !== 'vqa' ? ` --task ${o.task}` : '';
  return `pumer bench${task} --geometry ${o.geometry} --batch ${o.batch.join(',')} --backend ${o.backend.join(',')} --schedules ${schedules.join(',')} --repeats ${o.repeats} --warmup ${o.warmup} --seed ${o.seed} --out ${benchOutDir(o)}`;
}

/**
 * Writes a synthetic checkpoint for the geometry, loads it with the normal loader, and times every
 * backend × batch × schedule interleaved in this one process. Measures; asserts nothing.
 */
export async function runBench(opts: BenchCommandOptions, io: CliIO): Promise<BenchReport> {
  const g = SYNTHETIC_GEOMETRIES[opts.geometry];
  if (!g)
    throw new CliError(
      `unknown geometry "${opts.geometry}" (expected one of ${Object.keys(SYNTHETIC_GEOMETRIES).join(', ')})`,
    );
  const showProgress = !opts.json && io.stderrIsTTY;
  const note = (s: string) => {
    if (!opts.json) io.err(`${s}\n`);
  };

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
  const loaded = await loadModel(dir);
  const model = loaded.model;
  const geometry: ModelGeometry = {
    numLayers: g.numLayers,
    hiddenSize: g.hiddenSize,
    numHeads: g.numHeads,
    intermediateSize: g.intermediateSize,
    textTokens: g.textTokens,
    imageTokens: imageTokens(g),
  };
  // Named schedules scale to the depth (docs/schedules.md): each default is the one written for it.
  const scheduleNames =
    opts.schedules ??
    (g.numLayers >= 12 ? ['unreduced', 'paper', 'aggressive'] : ['unreduced', 'pumer', 'aggressive']);
  const schedules = scheduleNames.map((name) => scheduleFromFlags({ schedule: name }, g.numLayers));

  const configurations: Configuration[] = [];
  const providers = new Map<string, string>();
  // Instances made for the benchmark (not the registry's): released as soon as the timing is done.
  const owned: Backend[] = [];
  const release = () => Promise.all(owned.splice(0).map((b) => b.dispose().catch(() => undefined)));
  for (const choice of opts.backend) {
    // `auto` is timed under the name of the backend it picks; the note says which and why.
    const backendName = choice === AUTO_BACKEND ? (await activateBackend(choice)).name : choice;
    if (choice === AUTO_BACKEND) note(`backend ${backendName}: ${activeBackend()?.reason}`);
    const backend = await benchBackend(backendName, schedules.length, io.env).catch(async (err) => {
      await release();
      throw err;
    });
    if (backendName !== 'cpu') owned.push(backend);
    for (const batch of opts.batch) {
      const inputs = syntheticInputs(
        batch,
        g.textTokens,
        model.geometry.vocabSize,
        g.imageSize,
        opts.seed + batch,
        taskImages(task),
        imageWidth(g),
      );
      for (const s of schedules)
        configurations.push({ backendName, backend, batch, schedule: s.name, config: s.config, inputs });
    }
    providers.set(backendName, backend.info().provider);
  }

  note(
    `timing ${configurations.length} configurations: ${opts.warmup} warm-up + ${opts.repeats} timed runs each, interleaved`,
  );
  const progress = createProgress(io, showProgress, 'bench');
  // Resetting the kernel's high-water mark (rssProbe) also resets what getrusage reports as maxRSS, so the
  // whole-process peak is the larger of the peak before the first reset and every per-run peak.
  const setupPeakRss = process.resourceUsage().maxRSS * 1024;
  const rss = rssProbe();
  let measured: Awaited<ReturnType<typeof measureInterleaved>>;
  try {
    measured = await measureInterleaved(model, configurations, {
      repeats: opts.repeats,
      warmup: opts.warmup,
      onRun: (done, total) => progress.update(done, total),
      rss,
    });
    // Providers can settle on first use (a fallback), so read them again after the runs.
    for (const c of configurations) providers.set(c.backendName, c.backend.info().provider);
  } finally {
    progress.stop();
    await release();
  }

  const medianMs = (backend: string, batch: number, sched: string) =>
    measured.find(
      (m) =>
        m.configuration.backendName === backend &&
        m.configuration.batch === batch &&
        m.configuration.schedule === sched,
    );

  const rows: BenchRow[] = [];
  for (const m of measured) {
    const c = m.configuration;
    const runs = m.runsMs;
    const ips = runs.map((ms) => (1000 * c.batch) / ms);
    const base = medianMs(c.backendName, c.batch, 'unreduced');
    const speedup = base ? median(base.runsMs) / median(runs) : null;
    const ideal = schedule(geometry, c.config).idealSpeedup;
    let reducerShare: ReducerShare | null = null;
    if (c.config) {
      if (c.backendName === 'node') {
        reducerShare = await nodeReducerShare(c.backend, model, c.inputs, c.config);
      } else if (c.backendName === 'cpu') {
        const reduceMs = await timeReduceSteps(c.backend, geometry, c.config, c.batch);
        reducerShare = {
          share: Math.min(1, reduceMs / median(runs)),
          method:
            "the CPU backend's own Pruner and Merger timed at each reduce layer's exact shapes and counts (saliency, top-k, gathering kept rows, image merge, text merge; median of 15 after 2 untimed passes), divided by the median forward time",
        };
      }
    }
    rows.push({
      backend: c.backendName,
      provider: providers.get(c.backendName) ?? 'unknown',
      batch: c.batch,
      schedule: c.schedule,
      config: c.config,
      runsMs: runs,
      imagesPerSecond: { min: Math.min(...ips), median: median(ips), max: Math.max(...ips) },
      latencyMs: { p50: percentile(runs, 50), p95: percentile(runs, 95), min: Math.min(...runs) },
      speedup,
      idealSpeedup: ideal,
      achievedOverIdeal: speedup === null ? null : speedup / ideal,
      peakRssMiB: m.peakRss / MiB,
      reducerShare,
    });
  }

  const notes: string[] = [];
  if (opts.repeats < 5)
    notes.push(
      `Only ${opts.repeats} timed repeat(s): a smoke run, not a measurement to quote (use --repeats 5 or more).`,
    );
  notes.push(
    'A benchmark measures; it asserts nothing. Other processes on the machine add noise; interleaving spreads it evenly over the configurations.',
  );
  return {
    format: 'pumer-bench/1',
    command: commandLine(opts, scheduleNames),
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
    checkpoint: dir,
    repeats: opts.repeats,
    warmup: opts.warmup,
    seed: opts.seed,
    rows,
    rssMethod: rss.method,
    processMaxRssMiB:
      Math.max(setupPeakRss, process.resourceUsage().maxRSS * 1024, ...measured.map((m) => m.peakRss)) / MiB,
    notes,
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
  try {
    mkdirSync(outDir, { recursive: true });
    writeFileSync(path.join(outDir, 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(path.join(outDir, 'bench.md'), benchMarkdown(report));
    writeFileSync(path.join(outDir, 'bench.svg'), benchSvg(report));
  } catch (err) {
    throw new CliError(`cannot write the benchmark report to ${outDir}: ${(err as Error).message}`);
  }
  if (opts.json) {
    writeJson(io, {
      ...report,
      files: ['bench.json', 'bench.md', 'bench.svg'].map((f) => path.join(outDir, f)),
    });
    return;
  }
  const c = colorsFor(io, false);
  for (const r of report.rows) {
    const speed =
      r.speedup === null
        ? ''
        : `  speed-up ${c.green(`${fixed(r.speedup, 2)}×`)} (ideal ${fixed(r.idealSpeedup, 2)}×)`;
    const share = r.reducerShare ? `  reducer ${fixed(100 * r.reducerShare.share, 1)}%` : '';
    io.out(
      `${r.backend}/${r.provider} batch ${r.batch} ${r.schedule.padEnd(10)} ${fixed(r.imagesPerSecond.median, 2).padStart(8)} ${report.throughputUnit}  p50 ${fixed(r.latencyMs.p50, 1)} ms  p95 ${fixed(r.latencyMs.p95, 1)} ms${speed}${share}\n`,
    );
  }
  io.out(`wrote ${path.join(outDir, 'bench.json')}, bench.md, bench.svg\n`);
}
