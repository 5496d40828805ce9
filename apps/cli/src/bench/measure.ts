import type { Backend, ReductionConfig, ViltInputs, ViltModel } from '@pumer/core';

/** One thing to time: a backend running the model on one batch with one schedule. */
export interface Configuration {
  readonly backendName: string;
  readonly backend: Backend;
  readonly batch: number;
  readonly schedule: string;
  readonly config: ReductionConfig | null;
  readonly inputs: ViltInputs;
}

export interface Measurement {
  readonly configuration: Configuration;
  readonly runsMs: number[];
  /** Largest RSS sampled right after a run of this configuration, bytes. */
  peakRss: number;
}

export interface MeasureOptions {
  readonly repeats: number;
  readonly warmup: number;
  /** Called after every run (warm-up included) — drives the progress bar. */
  readonly onRun?: (done: number, total: number) => void;
}

/**
 * Warm-up, then `repeats` rounds; every round runs each configuration once, in turn (round-robin), so slow
 * drifts of the machine (other load, thermal state) hit all configurations alike instead of whichever ran last.
 */
export async function measureInterleaved(
  model: ViltModel,
  configurations: readonly Configuration[],
  opts: MeasureOptions,
): Promise<Measurement[]> {
  const results: Measurement[] = configurations.map((configuration) => ({
    configuration,
    runsMs: [],
    peakRss: 0,
  }));
  const total = (opts.warmup + opts.repeats) * configurations.length;
  let done = 0;
  for (let round = 0; round < opts.warmup + opts.repeats; round++) {
    const timed = round >= opts.warmup;
    for (const m of results) {
      const c = m.configuration;
      const start = performance.now();
      const out = await c.backend.runVilt(model, c.inputs, c.config);
      const ms = performance.now() - start;
      if (out.logits.shape[0] !== c.batch) {
        throw new Error(
          `${c.backendName} returned logits for ${out.logits.shape[0]} rows, expected ${c.batch}`,
        );
      }
      if (timed) m.runsMs.push(ms);
      m.peakRss = Math.max(m.peakRss, process.memoryUsage.rss());
      opts.onRun?.(++done, total);
    }
  }
  return results;
}
