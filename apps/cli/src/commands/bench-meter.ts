import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type MeterGeometry, meterSchedule } from '@pumer/core';
import type { LoadedMeter } from '@pumer/meter';
import { syntheticInputs } from '../bench/inputs.js';
import {
  benchCommandLine,
  benchNotes,
  peakRssMiB,
  timedRowFigures,
  timedRowLine,
  timeInterleaved,
  writeReportFiles,
} from '../bench/interleaved-run.js';
import { machineInfo } from '../bench/machine.js';
import { benchPageHead, fixedCell as f, markdownTable } from '../bench/markdown.js';
import {
  syntheticMeterConfig,
  syntheticMeterTensors,
  syntheticTextConfig,
} from '../bench/meter-synthetic.js';
import { taskImages } from '../bench/synthetic.js';
import { type BenchReport, type BenchRow, THROUGHPUT_UNITS } from '../bench/types.js';
import { CliError } from '../errors.js';
import { fixed } from '../format.js';
import { METER_GEOMETRIES } from '../geometries.js';
import { type CliIO, colorsFor, writeJson } from '../io.js';
import { meter, vilt } from '../loaders.js';
import { scheduleFromFlags } from '../schedule-flags.js';
import { type BenchCommandOptions, benchNote } from './bench.js';

/**
 * `pumer bench --geometry meter-b16-384` (or meter-b16-288, tiny-meter): a synthetic METER checkpoint of the
 * geometry (random weights, the safetensors layout, loaded by @pumer/meter's loader), the unreduced model and
 * the authors' VQA and VE schedules timed side by side, interleaved in one process, per backend and batch;
 * achieved speed-up ÷ the scheduler's ideal one, which counts the unreduced encoders.
 */

/** The schedules timed without --schedules: unreduced and the authors' VQA and VE ones. */
export const METER_BENCH_SCHEDULES = ['unreduced', 'meter-vqa', 'meter-ve'] as const;

export function isMeterBenchGeometry(name: string): boolean {
  return name in METER_GEOMETRIES;
}

/** A METER row: the whole model's ideal speed-up (encoders included) and the co-attention part's. */
export interface MeterBenchRow extends BenchRow {
  readonly coAttentionIdealSpeedup: number;
}

export interface MeterBenchReport extends Omit<BenchReport, 'rows'> {
  readonly family: 'meter';
  readonly rows: readonly MeterBenchRow[];
}

/** Where the report goes: --out, else docs/bench/<geometry>. */
export function meterBenchOutDir(o: Pick<BenchCommandOptions, 'out' | 'geometry'>): string {
  return o.out ?? `docs/bench/${o.geometry}`;
}

/** The synthetic checkpoint's files, through the loader's own entry point (meterFromFiles); nothing on disk. */
async function syntheticMeter(
  g: MeterGeometry,
  seed: number,
  task: BenchCommandOptions['task'],
): Promise<LoadedMeter> {
  const m = await meter();
  const { writeSafetensors } = await vilt();
  const tokenizerPath = m.bundledTokenizerPath('tiny-roberta');
  if (!tokenizerPath) throw new CliError('the @pumer/meter package ships no tiny-roberta tokenizer');
  return m.meterFromFiles({
    config: syntheticMeterConfig(g, task),
    textConfig: syntheticTextConfig(g),
    weights: writeSafetensors(syntheticMeterTensors(g, seed, task)),
    weightsName: 'model.safetensors',
    tokenizer: JSON.parse(readFileSync(tokenizerPath, 'utf8')),
    id: `synthetic-meter-${g.image.imageSize}-${task}-${seed}`,
  });
}

export async function runMeterBench(opts: BenchCommandOptions, io: CliIO): Promise<MeterBenchReport> {
  const g = METER_GEOMETRIES[opts.geometry];
  if (!g) throw new CliError(`unknown METER geometry "${opts.geometry}"`);
  const task = opts.task ?? 'vqa';
  const note = benchNote(opts, io);
  const started = performance.now();
  const loaded = await syntheticMeter(g, opts.seed, task);
  note(
    `built a synthetic ${opts.geometry} ${task} checkpoint (seed ${opts.seed}) in ${fixed((performance.now() - started) / 1000, 1)} s`,
  );
  const model = loaded.model;
  const scheduleNames = opts.schedules ?? [...METER_BENCH_SCHEDULES];
  const schedules = scheduleNames.map((name) =>
    scheduleFromFlags({ schedule: name }, g.numSteps, null, 'meter'),
  );
  const textTokens = g.maxTextLength;

  const times = await timeInterleaved(
    model,
    opts,
    io,
    schedules,
    // Every text token real (no padding): the scheduler counts the full 40-token window.
    (batch) =>
      syntheticInputs(
        batch,
        textTokens,
        g.text.vocabSize,
        g.image.imageSize,
        opts.seed + batch,
        taskImages(task),
      ),
    note,
  );

  const rows: MeterBenchRow[] = times.measured.map((m) => {
    const figures = timedRowFigures(m, times);
    const ideal = meterSchedule(g, m.configuration.config, { textTokens });
    return {
      ...figures,
      idealSpeedup: ideal.idealSpeedup,
      coAttentionIdealSpeedup: ideal.coAttentionIdealSpeedup,
      achievedOverIdeal: figures.speedup === null ? null : figures.speedup / ideal.idealSpeedup,
      peakRssMiB: peakRssMiB(m),
      reducerShare: null,
    };
  });

  return {
    format: 'pumer-bench/1',
    family: 'meter',
    command: benchCommandLine(opts, scheduleNames, meterBenchOutDir(opts)),
    task,
    throughputUnit: THROUGHPUT_UNITS[task],
    date: new Date().toISOString(),
    machine: machineInfo(),
    geometry: {
      name: opts.geometry,
      ...g,
      textTokens,
      imageTokens: (g.image.imageSize / g.image.patchSize) ** 2 + 1,
    },
    checkpoint: `synthetic (in memory, seed ${opts.seed})`,
    repeats: opts.repeats,
    warmup: opts.warmup,
    seed: opts.seed,
    rows,
    rssMethod: times.rssMethod,
    processMaxRssMiB: times.processMaxRssMiB(),
    notes: benchNotes(opts.repeats),
  };
}

/** The METER benchmark as a Markdown page: machine, command, one row per configuration, how to read it. */
export function meterBenchMarkdown(r: MeterBenchReport): string {
  const g = r.geometry as MeterBenchReport['geometry'] &
    MeterGeometry & { textTokens: number; imageTokens: number };
  const lines = [
    ...benchPageHead(`METER ${r.geometry.name}${r.task === 'vqa' ? '' : `, ${r.task}`}`, r),
    '## Setup',
    '',
    `- Geometry \`${g.name}\`: a ${g.text.numLayers}-layer RoBERTa (hidden ${g.text.hiddenSize}) over ${g.textTokens} text tokens and a ${g.image.numBlocks}-block CLIP ViT (width ${g.image.width}) over ${g.imageTokens} image tokens (${g.image.imageSize} px, patch ${g.image.patchSize}), neither reduced, then ${g.numSteps} co-attention steps (hidden ${g.hiddenSize}, ${g.numHeads} heads, FFN ${g.intermediateSize}).`,
    `- Checkpoint: deterministic random weights (seed ${r.seed}) under the authors' parameter names, loaded with \`@pumer/meter\`'s loader; the ${r.task} head.`,
    `- ${r.warmup} warm-up run(s) then ${r.repeats} timed run(s) per configuration, interleaved: each repeat visits every configuration once, round-robin, in one process.`,
    '',
    '## Results',
    '',
  ];
  const header = [
    'backend',
    'provider',
    'batch',
    'schedule',
    'images/s median',
    'p50 ms',
    'p95 ms',
    'speed-up',
    'ideal',
    'achieved ÷ ideal',
    'ideal, co-attention only',
    'peak RSS MiB',
  ];
  const right = [false, false, true, false, true, true, true, true, true, true, true, true];
  lines.push(
    ...markdownTable(
      header,
      right,
      r.rows.map((row) => [
        row.backend,
        row.provider,
        String(row.batch),
        row.schedule,
        f(row.imagesPerSecond.median, 2),
        f(row.latencyMs.p50, 1),
        f(row.latencyMs.p95, 1),
        row.speedup === null ? '—' : `${f(row.speedup, 2)}×`,
        `${f(row.idealSpeedup, 2)}×`,
        f(row.achievedOverIdeal, 2),
        `${f(row.coAttentionIdealSpeedup, 2)}×`,
        f(row.peakRssMiB, 0),
      ]),
    ),
    '',
    `Whole-process peak RSS: ${f(r.processMaxRssMiB, 0)} MiB.`,
    '',
    '## How to read it',
    '',
    '- **speed-up**: median time of the unreduced run ÷ median time of this run, same backend and batch.',
    "- **ideal**: the scheduler's FLOPs ratio for the whole model (`pumer schedule --geometry …`), counting the RoBERTa and ViT encoders, which PuMer does not reduce; **ideal, co-attention only** is the ratio of the co-attention steps alone.",
    '- **p50 / p95**: nearest-rank percentiles of the per-batch wall time.',
    ...r.notes.map((n) => `- ${n}`),
    '',
  );
  return lines.join('\n');
}

export async function meterBenchCommand(opts: BenchCommandOptions, io: CliIO): Promise<void> {
  if (opts.memory) throw new CliError('--memory is not available for the METER geometries');
  const report = await runMeterBench(opts, io);
  const outDir = path.resolve(io.cwd, meterBenchOutDir(opts));
  const files = writeReportFiles(
    outDir,
    { 'bench.json': `${JSON.stringify(report, null, 2)}\n`, 'bench.md': meterBenchMarkdown(report) },
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
        : `  speed-up ${c.green(`${fixed(r.speedup, 2)}×`)} (ideal ${fixed(r.idealSpeedup, 2)}×, achieved ÷ ideal ${fixed(r.achievedOverIdeal ?? Number.NaN, 2)})`;
    io.out(`${timedRowLine(r, report.throughputUnit, 11)}${speed}\n`);
  }
  io.out(`wrote ${path.join(outDir, 'bench.json')}, bench.md\n`);
}
