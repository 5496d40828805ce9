import type { ReductionConfig } from '@pumer/core';
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
