import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  AUTO_BACKEND,
  activeBackend,
  type Backend,
  type MeterModel,
  type ResolvedSchedule,
  type ViltModel,
} from '@pumer/core';
import type { BenchCommandOptions } from '../commands/bench.js';
import { CliError } from '../errors.js';
import { fixed } from '../format.js';
import type { CliIO } from '../io.js';
import { activateBackend, benchBackend } from '../loaders.js';
import { createProgress } from '../progress.js';
import {
  type Configuration,
  type Measurement,
  measureInterleaved,
  type RssProbe,
  rssProbe,
} from './measure.js';
import { median, percentile } from './stats.js';
import type { BenchRow } from './types.js';

/**
 * The steps `pumer bench` takes alike for ViLT (commands/bench.ts) and METER (commands/bench-meter.ts): every
 * backend × batch × schedule timed interleaved in this one process, the row figures every report shares, the
 * notes, the command line and the report files.
 */

const MiB = 1024 * 1024;

export interface InterleavedTimes {
  readonly measured: Measurement[];
  /** Backend name → the execution provider it reported after the runs. */
  readonly providers: Map<string, string>;
  readonly rssMethod: RssProbe['method'];
  /** The whole process's peak RSS, MiB, up to the moment of the call. */
  processMaxRssMiB(): number;
}

/** Times every backend × batch × schedule of `opts`, interleaved; `inputsFor` makes a batch's inputs. */
export async function timeInterleaved(
  model: ViltModel | MeterModel,
  opts: BenchCommandOptions,
  io: CliIO,
  schedules: readonly Pick<ResolvedSchedule, 'name' | 'config'>[],
  inputsFor: (batch: number) => Configuration['inputs'],
  note: (s: string) => void,
): Promise<InterleavedTimes> {
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
      const inputs = inputsFor(batch);
      for (const s of schedules)
        configurations.push({ backendName, backend, batch, schedule: s.name, config: s.config, inputs });
    }
    providers.set(backendName, backend.info().provider);
  }

  note(
    `timing ${configurations.length} configurations: ${opts.warmup} warm-up + ${opts.repeats} timed runs each, interleaved`,
  );
  const progress = createProgress(io, !opts.json && io.stderrIsTTY, 'bench');
  // Resetting the kernel's high-water mark (rssProbe) also resets what getrusage reports as maxRSS, so the
  // whole-process peak is the larger of the peak before the first reset and every per-run peak.
  const setupPeakRss = process.resourceUsage().maxRSS * 1024;
  const rss = rssProbe();
  let measured: Measurement[];
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
  return {
    measured,
    providers,
    rssMethod: rss.method,
    processMaxRssMiB: () =>
      Math.max(setupPeakRss, process.resourceUsage().maxRSS * 1024, ...measured.map((m) => m.peakRss)) / MiB,
  };
}

/** The figures of a row that come from the timings alone: throughput, latency, speed-up over unreduced. */
export function timedRowFigures(
  m: Measurement,
  times: InterleavedTimes,
): Pick<
  BenchRow,
  | 'backend'
  | 'provider'
  | 'batch'
  | 'schedule'
  | 'config'
  | 'runsMs'
  | 'imagesPerSecond'
  | 'latencyMs'
  | 'speedup'
> {
  const c = m.configuration;
  const runs = m.runsMs;
  const ips = runs.map((ms) => (1000 * c.batch) / ms);
  const base = times.measured.find(
    (o) =>
      o.configuration.backendName === c.backendName &&
      o.configuration.batch === c.batch &&
      o.configuration.schedule === 'unreduced',
  );
  return {
    backend: c.backendName,
    provider: times.providers.get(c.backendName) ?? 'unknown',
    batch: c.batch,
    schedule: c.schedule,
    config: c.config,
    runsMs: runs,
    imagesPerSecond: { min: Math.min(...ips), median: median(ips), max: Math.max(...ips) },
    latencyMs: { p50: percentile(runs, 50), p95: percentile(runs, 95), min: Math.min(...runs) },
    speedup: base ? median(base.runsMs) / median(runs) : null,
  };
}

/** A configuration's peak RSS in MiB, for its row. */
export function peakRssMiB(m: Measurement): number {
  return m.peakRss / MiB;
}

/** The notes every speed report carries. */
export function benchNotes(repeats: number): string[] {
  const notes: string[] = [];
  if (repeats < 5)
    notes.push(
      `Only ${repeats} timed repeat(s): a smoke run, not a measurement to quote (use --repeats 5 or more).`,
    );
  notes.push(
    'A benchmark measures; it asserts nothing. Other processes on the machine add noise; interleaving spreads it evenly over the configurations.',
  );
  return notes;
}

/** The command line that reproduces a run, for the report. */
export function benchCommandLine(
  o: BenchCommandOptions,
  schedules: readonly string[],
  outDir: string,
): string {
  const task = o.task && o.task !== 'vqa' ? ` --task ${o.task}` : '';
  return `pumer bench${task} --geometry ${o.geometry} --batch ${o.batch.join(',')} --backend ${o.backend.join(',')} --schedules ${schedules.join(',')} --repeats ${o.repeats} --warmup ${o.warmup} --seed ${o.seed} --out ${outDir}`;
}

/**
 * Writes a report's files (name → content) into `outDir`, made if missing; `what` names the report in the
 * error. Returns the files' paths.
 */
export function writeReportFiles(outDir: string, files: Record<string, string>, what: string): string[] {
  try {
    mkdirSync(outDir, { recursive: true });
    for (const [name, content] of Object.entries(files)) writeFileSync(path.join(outDir, name), content);
  } catch (err) {
    throw new CliError(`cannot write the ${what} report to ${outDir}: ${(err as Error).message}`);
  }
  return Object.keys(files).map((f) => path.join(outDir, f));
}

/** A row's console line up to its speed-up: backend, batch, schedule, throughput and latency. */
export function timedRowLine(r: BenchRow, unit: string, scheduleWidth: number): string {
  return `${r.backend}/${r.provider} batch ${r.batch} ${r.schedule.padEnd(scheduleWidth)} ${fixed(r.imagesPerSecond.median, 2).padStart(8)} ${unit}  p50 ${fixed(r.latencyMs.p50, 1)} ms  p95 ${fixed(r.latencyMs.p95, 1)} ms`;
}
