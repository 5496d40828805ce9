import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AUTO_BACKEND } from '@pumer/core';
import { type MemoryReport, measureMemory } from '../bench/memory.js';
import { memoryMarkdown } from '../bench/memory-markdown.js';
import {
  cacheDir,
  ensureSyntheticCheckpoint,
  imageTokens,
  imageWidth,
  SYNTHETIC_GEOMETRIES,
  taskImages,
} from '../bench/synthetic.js';
import { CliError } from '../errors.js';
import { fixed } from '../format.js';
import { type CliIO, writeJson } from '../io.js';
import { activateBackend, vilt } from '../loaders.js';
import { scheduleFromFlags } from '../schedule-flags.js';
import { type BenchCommandOptions, benchOutDir } from './bench.js';

/** Where `--memory` writes memory.json and memory.md: --out, else <the bench directory>/memory. */
export function memoryOutDir(o: Pick<BenchCommandOptions, 'out' | 'task'>): string {
  return o.out ?? path.join(benchOutDir(o), 'memory');
}

/**
 * `pumer bench --memory`: the geometry's synthetic checkpoint, then every backend × batch × schedule measured
 * in a child process of its own (bench/memory.ts); the report goes to memory.json and memory.md.
 */
export async function runMemoryBench(opts: BenchCommandOptions, io: CliIO): Promise<MemoryReport> {
  const g = SYNTHETIC_GEOMETRIES[opts.geometry];
  if (!g)
    throw new CliError(
      `unknown geometry "${opts.geometry}" (expected one of ${Object.keys(SYNTHETIC_GEOMETRIES).join(', ')})`,
    );
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
  const names =
    opts.schedules ??
    (g.numLayers >= 12 ? ['unreduced', 'paper', 'aggressive'] : ['unreduced', 'pumer', 'aggressive']);
  const backends: string[] = [];
  for (const choice of opts.backend)
    backends.push(choice === AUTO_BACKEND ? (await activateBackend(choice)).name : choice);
  const command = `pumer bench --memory${task === 'vqa' ? '' : ` --task ${task}`} --geometry ${g.name} --batch ${opts.batch.join(',')} --backend ${backends.join(',')} --schedules ${names.join(',')} --repeats ${opts.repeats} --warmup ${opts.warmup} --seed ${opts.seed} --out ${memoryOutDir(opts)}`;
  return measureMemory(
    {
      command,
      checkpoint: dir,
      geometry: {
        name: g.name,
        numLayers: g.numLayers,
        hiddenSize: g.hiddenSize,
        numHeads: g.numHeads,
        intermediateSize: g.intermediateSize,
        textTokens: g.textTokens,
        imageTokens: imageTokens(g),
        imageSize: g.imageSize,
        imageWidth: imageWidth(g),
        patchSize: g.patchSize,
      },
      backends,
      batches: opts.batch,
      schedules: names.map((name) => {
        const s = scheduleFromFlags({ schedule: name }, g.numLayers);
        return { name: s.name, config: s.config };
      }),
      warmup: opts.warmup,
      repeats: opts.repeats,
      seed: opts.seed,
      imageHeight: g.imageSize,
      imageWidth: imageWidth(g),
      numImages: taskImages(task),
    },
    io.env,
    (label) => note(`measuring ${label} in its own process`),
  );
}

export async function benchMemoryCommand(opts: BenchCommandOptions, io: CliIO): Promise<void> {
  const report = await runMemoryBench(opts, io);
  const outDir = path.resolve(io.cwd, memoryOutDir(opts));
  try {
    mkdirSync(outDir, { recursive: true });
    writeFileSync(path.join(outDir, 'memory.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(path.join(outDir, 'memory.md'), memoryMarkdown(report));
  } catch (err) {
    throw new CliError(`cannot write the memory report to ${outDir}: ${(err as Error).message}`);
  }
  if (opts.json) {
    writeJson(io, { ...report, files: ['memory.json', 'memory.md'].map((f) => path.join(outDir, f)) });
    return;
  }
  for (const r of report.rows) {
    io.out(
      `${r.backend}/${r.provider} batch ${r.batch} ${r.schedule.padEnd(10)} peak RSS ${fixed(r.peakRssMiB, 0).padStart(6)} MiB  run growth ${fixed(r.runGrowthMiB, 0).padStart(5)} MiB  activations (peak layer) ${fixed(r.peakActivationMiB, 1)} MiB\n`,
    );
  }
  io.out(`wrote ${path.join(outDir, 'memory.json')}, memory.md\n`);
}
