import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { measureStartup, type StartupReport, startupMarkdown, startupReport } from '../bench/startup.js';
import { cacheDir, ensureSyntheticCheckpoint, reportPath, SYNTHETIC_GEOMETRIES } from '../bench/synthetic.js';
import { CliError } from '../errors.js';
import { type CliIO, writeJson } from '../io.js';
import { vilt } from '../loaders.js';
import { createProgress } from '../progress.js';
import { type BenchCommandOptions, benchOutDir } from './bench.js';

/** The photo every try answers about: a phone photo's 640x480 (384x512 after resizing: 192 patches). */
export const STARTUP_PHOTO = { width: 640, height: 480 } as const;
/** Tries per graph cache state when --tries is not given (the report quotes medians). */
export const DEFAULT_STARTUP_TRIES = 5;

/** Where `--startup` writes startup.json and startup.md: --out, else <the bench directory>/startup. */
export function startupOutDir(o: Pick<BenchCommandOptions, 'out' | 'task'>): string {
  return o.out ?? path.join(benchOutDir(o), 'startup');
}

/**
 * `pumer bench --startup`: time to the first answer of `pumer run` on the geometry's synthetic checkpoint, a
 * fresh process per try, with a cold and a warm graph cache (bench/startup.ts).
 */
export async function runStartupBench(opts: BenchCommandOptions, io: CliIO): Promise<StartupReport> {
  const g = SYNTHETIC_GEOMETRIES[opts.geometry];
  if (!g)
    throw new CliError(
      `unknown geometry "${opts.geometry}" (expected one of ${Object.keys(SYNTHETIC_GEOMETRIES).join(', ')})`,
    );
  if (opts.task && opts.task !== 'vqa') throw new CliError('--startup times the VQA head only');
  const { defaultModelDir, writeSafetensors } = await vilt();
  const { dir } = ensureSyntheticCheckpoint({
    geometry: g,
    seed: opts.seed,
    cache: cacheDir(io.env),
    tokenizerJsonPath: path.join(defaultModelDir(), 'tokenizer.json'),
    writeSafetensors,
  });
  const backend = opts.backend[0] ?? 'auto';
  const schedule = opts.schedules?.[0] ?? 'unreduced';
  const tries = opts.tries ?? DEFAULT_STARTUP_TRIES;
  const progress = createProgress(io, !opts.json && io.stderrIsTTY, 'startup');
  if (!opts.json)
    io.err(
      `timing ${tries} cold and ${tries} warm starts of pumer run (${g.name}, ${backend}, ${schedule})\n`,
    );
  const loadBefore = os.loadavg()[0]!;
  let runs: Awaited<ReturnType<typeof measureStartup>>;
  try {
    runs = await measureStartup({
      checkpoint: dir,
      backend,
      schedule,
      tries,
      imageWidth: STARTUP_PHOTO.width,
      imageHeight: STARTUP_PHOTO.height,
      onTry: (done, total) => progress.update(done, total),
    });
  } finally {
    progress.stop();
  }
  const command = `pumer bench --startup --geometry ${g.name} --backend ${backend} --schedules ${schedule} --tries ${tries} --seed ${opts.seed}`;
  return startupReport({
    command,
    geometry: g.name,
    checkpoint: reportPath(dir),
    weightsBytes: statSync(path.join(dir, 'model.safetensors')).size,
    backend,
    schedule,
    image: `${STARTUP_PHOTO.width}x${STARTUP_PHOTO.height}`,
    runs,
    loadAverage: { before: loadBefore, after: os.loadavg()[0]! },
  });
}

export async function benchStartupCommand(opts: BenchCommandOptions, io: CliIO): Promise<void> {
  const report = await runStartupBench(opts, io);
  const outDir = path.resolve(io.cwd, startupOutDir(opts));
  try {
    mkdirSync(outDir, { recursive: true });
    writeFileSync(path.join(outDir, 'startup.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(path.join(outDir, 'startup.md'), startupMarkdown(report));
  } catch (err) {
    throw new CliError(`cannot write the start-up report to ${outDir}: ${(err as Error).message}`);
  }
  if (opts.json) {
    writeJson(io, { ...report, files: ['startup.json', 'startup.md'].map((f) => path.join(outDir, f)) });
    return;
  }
  const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  for (const [name, s] of [
    ['cold', report.cold],
    ['warm', report.warm],
  ] as const) {
    io.out(
      `${name} graph cache: first answer ${sec(s.timeToAnswerMs)} (median of ${s.tries}; wall ${sec(s.wallMs)}), peak RSS ${s.peakRssMiB.toFixed(0)} MiB\n`,
    );
  }
  io.out(`wrote ${path.join(outDir, 'startup.json')}, startup.md\n`);
}
