import type { ReductionConfig, ViltTask } from '@pumer/core';
import type { MachineInfo } from './machine.js';

/** How the share of time spent in reducer ops was obtained for a row (it differs per backend). */
export interface ReducerShare {
  /** Fraction of a reduced forward pass spent in the reduce steps, in [0, 1]. */
  readonly share: number;
  /** One sentence: what was timed. */
  readonly method: string;
  /** node: the op types counted as reducer ops, with their kernel milliseconds per profiled run. */
  readonly opTypes?: Readonly<Record<string, number>>;
}

/** One configuration: a backend, a batch size and a schedule. */
export interface BenchRow {
  readonly backend: string;
  /** What actually ran (backend.info().provider). */
  readonly provider: string;
  readonly batch: number;
  readonly schedule: string;
  readonly config: ReductionConfig | null;
  /** Wall time of each timed forward pass, in run order. */
  readonly runsMs: readonly number[];
  /** Batch rows per second: images (VQA, VE), image pairs of two passes (NLVR2), text-image pairs (retrieval). */
  readonly imagesPerSecond: { readonly min: number; readonly median: number; readonly max: number };
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly min: number };
  /** Median unreduced time ÷ median time of this row (same backend and batch); null without an unreduced row. */
  readonly speedup: number | null;
  /** The scheduler's FLOPs ratio for this schedule on this geometry. */
  readonly idealSpeedup: number;
  readonly achievedOverIdeal: number | null;
  /** Peak resident set size over this row's timed runs, MiB (how: BenchReport.rssMethod). */
  readonly peakRssMiB: number;
  readonly reducerShare: ReducerShare | null;
}

export interface BenchReport {
  readonly format: 'pumer-bench/1';
  readonly command: string;
  /** The head timed. */
  readonly task: ViltTask;
  /** What a row's `imagesPerSecond` counts, per second. */
  readonly throughputUnit: (typeof THROUGHPUT_UNITS)[ViltTask];
  readonly date: string;
  readonly machine: MachineInfo;
  readonly geometry: { readonly name: string; readonly [k: string]: unknown };
  readonly checkpoint: string;
  readonly repeats: number;
  readonly warmup: number;
  readonly seed: number;
  readonly rows: readonly BenchRow[];
  /** 'VmHWM': the kernel's RSS high-water mark, reset before each run (Linux); 'sampled': RSS right after each run. */
  readonly rssMethod: 'VmHWM' | 'sampled';
  /** Peak RSS of the whole process, MiB: loading, every configuration and the profiling runs included. */
  readonly processMaxRssMiB: number;
  readonly notes: readonly string[];
}

/** What a batch row is for each task: an image, an NLVR2 example (two image passes) or a text-image pair. */
export const THROUGHPUT_UNITS = {
  vqa: 'img/s',
  ve: 'img/s',
  nlvr2: 'examples/s',
  retrieval: 'pairs/s',
} as const satisfies Record<ViltTask, string>;
