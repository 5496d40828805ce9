import path from 'node:path';
import { AUTO_BACKEND } from '@pumer/core';
import { type MemoryReport, measureMemory } from '../bench/memory.js';
import { writeReportFiles } from '../bench/interleaved-run.js';
import { memoryMarkdown } from '../bench/memory-markdown.js';
import { imageWidth, modelGeometry, taskImages } from '../bench/synthetic.js';
import { fixed } from '../format.js';
import { type CliIO, writeJson } from '../io.js';
import { activateBackend } from '../loaders.js';
import { scheduleFromFlags } from '../schedule-flags.js';
import { type BenchCommandOptions, benchNote, benchOutDir, syntheticViltBench } from './bench.js';

/** Where `--memory` writes memory.json and memory.md: --out, else <the bench directory>/memory. */
export function memoryOutDir(o: Pick<BenchCommandOptions, 'out' | 'task'>): string {
  return o.out ?? path.join(benchOutDir(o), 'memory');
}

/**
 * `pumer bench --memory`: the geometry's synthetic checkpoint, then every backend × batch × schedule measured
 * in a child process of its own (bench/memory.ts); the report goes to memory.json and memory.md.
 */
export async function runMemoryBench(opts: BenchCommandOptions, io: CliIO): Promise<MemoryReport> {
  const note = benchNote(opts, io);
  const { g, task, dir, scheduleNames: names } = await syntheticViltBench(opts, io, note);
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
        ...modelGeometry(g),
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
  const files = writeReportFiles(
    outDir,
    { 'memory.json': `${JSON.stringify(report, null, 2)}\n`, 'memory.md': memoryMarkdown(report) },
    'memory',
  );
  if (opts.json) {
    writeJson(io, { ...report, files });
    return;
  }
  for (const r of report.rows) {
    io.out(
      `${r.backend}/${r.provider} batch ${r.batch} ${r.schedule.padEnd(10)} peak RSS ${fixed(r.peakRssMiB, 0).padStart(6)} MiB  run growth ${fixed(r.runGrowthMiB, 0).padStart(5)} MiB  activations (peak layer) ${fixed(r.peakActivationMiB, 1)} MiB\n`,
    );
  }
  io.out(`wrote ${path.join(outDir, 'memory.json')}, memory.md\n`);
}
