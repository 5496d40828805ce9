import { readFileSync, writeFileSync } from 'node:fs';
import type { Backend, ReductionConfig, ViltModel } from '@pumer/core';
import { benchBackend, loadModel, nodeArenaBytes } from '../loaders.js';
import { syntheticInputs } from './inputs.js';

/**
 * One configuration's memory, measured in a process of its own (bench/memory-child.ts runs this): load the
 * model, compile the session, warm up, then time runs with the kernel's resident-set high-water mark reset, so
 * the peak is the steady-state peak of that configuration alone — no other schedule's session, no profiler.
 */
export interface MemoryProbeSpec {
  readonly checkpoint: string;
  readonly backend: string;
  readonly batch: number;
  readonly schedule: string;
  readonly config: ReductionConfig | null;
  readonly warmup: number;
  readonly repeats: number;
  readonly seed: number;
  readonly textTokens: number;
  /** Pixels fed per image. */
  readonly imageHeight: number;
  readonly imageWidth: number;
  readonly numImages: number;
}

/** What the runtime itself reports of its memory: live WebGPU buffers, or onnxruntime's CPU arena. */
export interface RuntimeBytes {
  /** What was counted, in one line. */
  readonly what: string;
  /** Most bytes live at once during the timed runs. */
  readonly peak: number;
  /** Bytes live after the timed runs (what the runtime keeps between runs: weights, cached buffers). */
  readonly after: number;
}

export interface MemoryProbeResult {
  readonly provider: string;
  /** 'VmHWM': the kernel's high-water mark, reset before the timed runs; 'sampled': RSS after each run. */
  readonly method: 'VmHWM' | 'sampled';
  /** Resident set (bytes) after loading the model, after compiling its session, and after the warm-up runs. */
  readonly rssLoaded: number;
  readonly rssSession: number | null;
  readonly rssWarm: number;
  /** Peak resident set during the timed runs. */
  readonly peakRss: number;
  /** Peak resident set of the whole process up to the timed runs: loading, building, compiling, warm-up. */
  readonly startupPeakRss: number;
  readonly runtime: RuntimeBytes | null;
  readonly runsMs: readonly number[];
}

function procStatus(field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Resets the kernel's high-water mark to the current RSS (Linux); false where that is not possible. */
function resetHighWaterMark(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return procStatus('VmHWM') !== null;
  } catch {
    return false;
  }
}

/**
 * The resident set now, after a full garbage collection when the process allows it (the child runs with
 * --expose-gc): otherwise a freed graph buffer of the size of the weights may or may not still be counted.
 */
function rssNow(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return procStatus('VmRSS') ?? process.memoryUsage.rss();
}

/** A backend that can compile its whole-model session ahead of the first run (the onnxruntime backends). */
interface PrecompilingBackend extends Backend {
  viltSession(model: ViltModel, geometry: unknown, config: ReductionConfig | null): Promise<unknown>;
}

function precompiles(b: Backend): b is PrecompilingBackend {
  return typeof (b as Partial<PrecompilingBackend>).viltSession === 'function';
}

interface BufferLike {
  readonly size: number;
  destroy(): void;
}

/**
 * Counts the bytes of WebGPU buffers alive at once by wrapping GPUDevice.createBuffer and GPUBuffer.destroy
 * (onnxruntime-web reports no allocator statistics of its own). Null when there is no WebGPU in this process.
 */
function countDeviceBuffers(): { reset(): void; read(): RuntimeBytes } | null {
  const g = globalThis as {
    GPUDevice?: { prototype: { createBuffer(d: unknown): BufferLike } };
    GPUBuffer?: { prototype: { destroy(): void } };
  };
  if (!g.GPUDevice?.prototype || !g.GPUBuffer?.prototype) return null;
  const live = new WeakSet<object>();
  let bytes = 0;
  let peak = 0;
  const create = g.GPUDevice.prototype.createBuffer;
  const destroy = g.GPUBuffer.prototype.destroy;
  g.GPUDevice.prototype.createBuffer = function (this: unknown, d: unknown) {
    const buffer = create.call(this, d);
    live.add(buffer);
    bytes += buffer.size;
    peak = Math.max(peak, bytes);
    return buffer;
  };
  g.GPUBuffer.prototype.destroy = function (this: BufferLike) {
    if (live.delete(this)) bytes -= this.size;
    return destroy.call(this);
  };
  return {
    reset: () => {
      peak = bytes;
    },
    read: () => ({ what: 'bytes of live WebGPU buffers (createBuffer minus destroy)', peak, after: bytes }),
  };
}

export async function probeMemory(spec: MemoryProbeSpec): Promise<MemoryProbeResult> {
  const { model } = await loadModel(spec.checkpoint);
  const rssLoaded = rssNow();
  const backend = await benchBackend(spec.backend, 1, process.env);
  // Installed after the backend exists (it brings the WebGPU globals in Node), before any session.
  const device = spec.backend === 'webgpu' ? countDeviceBuffers() : null;
  const inputs = syntheticInputs(
    spec.batch,
    spec.textTokens,
    model.geometry.vocabSize,
    spec.imageHeight,
    spec.seed + spec.batch,
    spec.numImages,
    spec.imageWidth,
  );
  try {
    let rssSession: number | null = null;
    if (precompiles(backend)) {
      const { viltGeometryOf } = await import('@pumer/onnx');
      const { validateReductionConfig } = await import('@pumer/core');
      const cfg = spec.config ? validateReductionConfig(spec.config, model.geometry.numLayers) : null;
      await backend.viltSession(model, viltGeometryOf(model, inputs), cfg);
      rssSession = rssNow();
    }
    for (let i = 0; i < spec.warmup; i++) await backend.runVilt(model, inputs, spec.config);
    const rssWarm = rssNow();
    const startupPeakRss = Math.max(procStatus('VmHWM') ?? 0, process.resourceUsage().maxRSS * 1024);
    const hwm = resetHighWaterMark();
    device?.reset();
    const runsMs: number[] = [];
    let sampled = 0;
    for (let i = 0; i < spec.repeats; i++) {
      const start = performance.now();
      await backend.runVilt(model, inputs, spec.config);
      runsMs.push(performance.now() - start);
      sampled = Math.max(sampled, procStatus('VmRSS') ?? process.memoryUsage.rss());
    }
    const peakRss = hwm ? (procStatus('VmHWM') ?? sampled) : sampled;
    // onnxruntime-node shows its CPU arena only in the profiler's counters: read in a profiled session of its
    // own, after the peak above was taken, so it adds nothing to what the runs measured.
    const arena =
      spec.backend === 'node' && backend.info().provider === 'cpu'
        ? await nodeArenaBytes(backend, model, inputs, spec.config)
        : null;
    return {
      provider: backend.info().provider,
      method: hwm ? 'VmHWM' : 'sampled',
      rssLoaded,
      rssSession,
      rssWarm,
      peakRss,
      startupPeakRss,
      runtime: device?.read() ?? arena,
      runsMs,
    };
  } finally {
    if (spec.backend !== 'cpu') await backend.dispose().catch(() => undefined);
  }
}
