import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type ModelGeometry, type ReductionConfig, schedule } from '@pumer/core';
import { CliError } from '../errors.js';
import { type MachineInfo, machineInfo } from './machine.js';
import type { MemoryProbeResult, MemoryProbeSpec, RuntimeBytes } from './memory-probe.js';
import { reportPath } from './synthetic.js';

/**
 * `pumer bench --memory`: every backend × batch × schedule in a process of its own, so one configuration's
 * peak is not mixed with another's sessions or with the profiler; beside each, the scheduler's activation
 * bytes per layer for the same batch (what the reduction can save in principle).
 */

const MiB = 1024 * 1024;

/** One configuration's memory. Sizes in MiB. */
export interface MemoryRow {
  readonly backend: string;
  readonly provider: string;
  readonly batch: number;
  readonly schedule: string;
  readonly config: ReductionConfig | null;
  /** Resident set after loading the model, after compiling its session (onnxruntime backends), after warm-up. */
  readonly rssLoadedMiB: number;
  readonly rssSessionMiB: number | null;
  readonly rssWarmMiB: number;
  /** Peak resident set during the timed runs (after warm-up): the configuration's steady-state peak. */
  readonly peakRssMiB: number;
  /** What a run adds on top of the warm process: peak − RSS after warm-up, 0 when it fits in what is resident. */
  readonly runGrowthMiB: number;
  /** Peak of the whole process before the timed runs: loading, graph building, compiling and warm-up. */
  readonly startupPeakRssMiB: number;
  /** What the runtime reports of its own memory (WebGPU buffers, onnxruntime's CPU arena), else null. */
  readonly runtime: { readonly what: string; readonly peakMiB: number; readonly afterMiB: number } | null;
  readonly runsMs: readonly number[];
  /** The scheduler's float32 activation bytes per layer for this batch (layerActivationBytes × batch), MiB. */
  readonly activationMiB: readonly number[];
  readonly peakActivationMiB: number;
  readonly totalActivationMiB: number;
}

export interface MemoryReport {
  readonly format: 'pumer-bench-memory/1';
  readonly command: string;
  readonly date: string;
  readonly machine: MachineInfo;
  readonly geometry: { readonly name: string; readonly [k: string]: unknown };
  readonly checkpoint: string;
  /** Bytes of the checkpoint's weights file, MiB. */
  readonly weightsMiB: number;
  readonly warmup: number;
  readonly repeats: number;
  readonly rssMethod: 'VmHWM' | 'sampled';
  readonly rows: readonly MemoryRow[];
  readonly notes: readonly string[];
}

/** What a memory run measures: the configurations and how each child process loads and feeds its model. */
export interface MemoryPlan {
  readonly command: string;
  readonly checkpoint: string;
  readonly geometry: ModelGeometry & { readonly name: string; readonly [k: string]: unknown };
  readonly backends: readonly string[];
  readonly batches: readonly number[];
  readonly schedules: readonly { readonly name: string; readonly config: ReductionConfig | null }[];
  readonly warmup: number;
  readonly repeats: number;
  readonly seed: number;
  readonly imageHeight: number;
  readonly imageWidth: number;
  readonly numImages: number;
}

/** How to start bench/memory-child: its TypeScript source through tsx, or the built file beside the bundle. */
function childCommand(): { file: string; args: string[] } {
  const here = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    const tsx = createRequire(here).resolve('tsx');
    return {
      file: path.join(path.dirname(here), 'memory-child.ts'),
      args: ['--expose-gc', '--import', pathToFileURL(tsx).href, '--conditions=@pumer/source'],
    };
  }
  return { file: path.join(path.dirname(here), 'bench-memory-child.js'), args: ['--expose-gc'] };
}

/** Runs one configuration in a fresh Node process and returns what it measured. */
export function probeInChild(
  spec: MemoryProbeSpec,
  env: Readonly<Record<string, string | undefined>>,
): Promise<MemoryProbeResult> {
  const { file, args } = childCommand();
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...args, file, JSON.stringify(spec)],
      { env: { ...process.env, ...env }, maxBuffer: 16 * MiB },
      (err, stdout, stderr) => {
        const line = stdout.trim().split('\n').pop() ?? '';
        if (err || !line.startsWith('{')) {
          const why = stderr.trim().split('\n').pop() || (err?.message ?? 'no result');
          reject(
            new CliError(
              `memory probe of ${spec.backend} batch ${spec.batch} ${spec.schedule} failed: ${why}`,
            ),
          );
          return;
        }
        resolve(JSON.parse(line) as MemoryProbeResult);
      },
    );
  });
}

const mib = (bytes: number) => bytes / MiB;

function runtimeMiB(r: RuntimeBytes | null): MemoryRow['runtime'] {
  return r ? { what: r.what, peakMiB: mib(r.peak), afterMiB: mib(r.after) } : null;
}

/** A row from a probe and the scheduler's activation estimate for the same schedule and batch. */
export function memoryRow(
  geometry: ModelGeometry,
  backend: string,
  batch: number,
  sched: { readonly name: string; readonly config: ReductionConfig | null },
  probe: MemoryProbeResult,
): MemoryRow {
  const s = schedule(geometry, sched.config);
  return {
    backend,
    provider: probe.provider,
    batch,
    schedule: sched.name,
    config: sched.config,
    rssLoadedMiB: mib(probe.rssLoaded),
    rssSessionMiB: probe.rssSession === null ? null : mib(probe.rssSession),
    rssWarmMiB: mib(probe.rssWarm),
    peakRssMiB: mib(probe.peakRss),
    runGrowthMiB: mib(Math.max(0, probe.peakRss - probe.rssWarm)),
    startupPeakRssMiB: mib(probe.startupPeakRss),
    runtime: runtimeMiB(probe.runtime),
    runsMs: probe.runsMs,
    activationMiB: s.layers.map((l) => mib(l.activationBytes * batch)),
    peakActivationMiB: mib(s.peakActivationBytes * batch),
    totalActivationMiB: mib(s.totalActivationBytes * batch),
  };
}

/**
 * Measures every configuration of the plan, one child process each, one after another (never two at once:
 * they would share the cores and the memory they measure). `onProbe` is told before each starts.
 */
export async function measureMemory(
  plan: MemoryPlan,
  env: Readonly<Record<string, string | undefined>>,
  onProbe: (label: string) => void = () => undefined,
): Promise<MemoryReport> {
  const rows: MemoryRow[] = [];
  let method: MemoryReport['rssMethod'] = 'VmHWM';
  for (const backend of plan.backends) {
    for (const batch of plan.batches) {
      for (const s of plan.schedules) {
        onProbe(`${backend} batch ${batch} ${s.name}`);
        const probe = await probeInChild(
          {
            checkpoint: plan.checkpoint,
            backend,
            batch,
            schedule: s.name,
            config: s.config,
            warmup: plan.warmup,
            repeats: plan.repeats,
            seed: plan.seed,
            textTokens: plan.geometry.textTokens,
            imageHeight: plan.imageHeight,
            imageWidth: plan.imageWidth,
            numImages: plan.numImages,
          },
          env,
        );
        if (probe.method === 'sampled') method = 'sampled';
        rows.push(memoryRow(plan.geometry, backend, batch, s, probe));
      }
    }
  }
  const notes = [
    'Each row is its own process: model loaded, session compiled, warm-up runs, then the timed runs with the resident-set high-water mark reset, so a row holds one schedule only.',
    "onnxruntime-node's CPU arena is read from its profiler's counters in a separate profiled session after the measured runs (runtime peak: most bytes requested at once, pre-packed weights included); the resident set counts only the arena pages written, which depends on where the arena placed each tensor.",
  ];
  if (plan.repeats < 2) notes.push('One timed run per configuration: peaks are exact, timings are not.');
  let weightsMiB = Number.NaN;
  try {
    weightsMiB = mib(statSync(path.join(plan.checkpoint, 'model.safetensors')).size);
  } catch {
    // a checkpoint in another layout: the report says — for the weights
  }
  return {
    format: 'pumer-bench-memory/1',
    command: plan.command,
    date: new Date().toISOString(),
    machine: machineInfo(),
    geometry: plan.geometry,
    checkpoint: reportPath(plan.checkpoint),
    weightsMiB,
    warmup: plan.warmup,
    repeats: plan.repeats,
    rssMethod: method,
    rows,
    notes,
  };
}
