import { readFileSync, writeFileSync } from 'node:fs';
import type { Backend, MeterModel, ReductionConfig, ViltInputs, ViltModel } from '@pumer/core';

/**
 * How a run's peak memory is read. On Linux the kernel keeps the resident-set high-water mark (VmHWM) and
 * lets a process reset it (`5` into /proc/self/clear_refs), which gives the true peak during one run;
 * elsewhere the RSS right after the run is the best available.
 */
export interface RssProbe {
  readonly method: 'VmHWM' | 'sampled';
  /** Called right before a run. */
  reset(): void;
  /** Bytes: the peak since reset (VmHWM) or the RSS now (sampled). */
  read(): number;
}

function readHwm(): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export function rssProbe(): RssProbe {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    if (readHwm() !== null) {
      return {
        method: 'VmHWM',
        reset: () => writeFileSync('/proc/self/clear_refs', '5'),
        read: () => readHwm() ?? process.memoryUsage.rss(),
      };
    }
  } catch {
    // not Linux, or not allowed: fall back to sampling
  }
  return { method: 'sampled', reset: () => undefined, read: () => process.memoryUsage.rss() };
}

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
  /** Peak resident set size over this configuration's runs, bytes (see RssProbe). */
  peakRss: number;
}

export interface MeasureOptions {
  readonly repeats: number;
  readonly warmup: number;
  /** Called after every run (warm-up included) — drives the progress bar. */
  readonly onRun?: (done: number, total: number) => void;
  readonly rss?: RssProbe;
}

const isMeter = (m: ViltModel | MeterModel): m is MeterModel => 'kind' in m && m.kind === 'meter';

/**
 * Warm-up, then `repeats` rounds; every round runs each configuration once, in turn (round-robin), so slow
 * drifts of the machine (other load, thermal state) hit all configurations alike instead of whichever ran last.
 */
export async function measureInterleaved(
  /** ViLT (runVilt), or METER (runMeter: its inputs have the same three tensors). */
  model: ViltModel | MeterModel,
  configurations: readonly Configuration[],
  opts: MeasureOptions,
): Promise<Measurement[]> {
  const results: Measurement[] = configurations.map((configuration) => ({
    configuration,
    runsMs: [],
    peakRss: 0,
  }));
  const total = (opts.warmup + opts.repeats) * configurations.length;
  const rss = opts.rss ?? rssProbe();
  let done = 0;
  for (let round = 0; round < opts.warmup + opts.repeats; round++) {
    const timed = round >= opts.warmup;
    for (const m of results) {
      const c = m.configuration;
      rss.reset();
      const start = performance.now();
      const out = isMeter(model)
        ? await c.backend.runMeter(model, c.inputs, c.config)
        : await c.backend.runVilt(model, c.inputs, c.config);
      const ms = performance.now() - start;
      if (out.logits.shape[0] !== c.batch) {
        throw new Error(
          `${c.backendName} returned logits for ${out.logits.shape[0]} rows, expected ${c.batch}`,
        );
      }
      if (timed) m.runsMs.push(ms);
      if (timed) m.peakRss = Math.max(m.peakRss, rss.read());
      opts.onRun?.(++done, total);
    }
  }
  return results;
}
