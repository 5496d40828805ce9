import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type Backend,
  type ReductionConfig,
  validateReductionConfig,
  type ViltInputs,
  type ViltModel,
} from '@pumer/core';
import type { LoadedMeter } from '@pumer/meter';
import type { LoadedVilt } from '@pumer/vilt';
import type { ReducerShare } from './bench/types.js';
import { CliError } from './errors.js';

/**
 * Everything the CLI takes from the other packages goes through here, imported lazily: `pumer schedule`
 * should not pay for onnxruntime, and a backend package is only loaded when asked for.
 */

export type ViltNode = typeof import('@pumer/vilt/node');

export async function vilt(): Promise<ViltNode> {
  return import('@pumer/vilt/node');
}

/**
 * Loads a backend (`auto` included) through @pumer/pumer's one loader, which imports its package on demand
 * and makes it core's active backend. A fallback (e.g. node without CUDA) is announced by the backend itself,
 * once, on stderr.
 */
export async function loadBackend(name: string): Promise<Backend> {
  const { loadBackend: load } = await import('@pumer/pumer/loaders');
  return load(name);
}

export interface ActiveBackend {
  readonly backend: Backend;
  /** The registry name it runs under (what `auto` chose, for `auto`). */
  readonly name: string;
  /** Why this backend runs, in one line. */
  readonly reason: string;
}

/** The backend a `--backend` choice runs on, loaded and made active, and why it is the one. */
export async function activateBackend(choice: string): Promise<ActiveBackend> {
  const backend = await loadBackend(choice);
  const { activeBackend, AUTO_BACKEND } = await import('@pumer/core');
  const active = activeBackend();
  return {
    backend,
    name: active?.name ?? choice,
    reason: choice === AUTO_BACKEND && active ? active.reason : `requested with --backend ${choice}`,
  };
}

/**
 * A backend instance of its own for the benchmark, whose whole-model session cache holds `schedules`
 * graphs: the registry's instance keeps 2, and round-robin over 3 schedules would then rebuild a session on
 * every run and time the compiler instead of the model. The provider still comes from the backend's
 * environment variable (PUMER_NODE_PROVIDER / PUMER_WEBGPU_PROVIDER).
 */
export async function benchBackend(
  name: string,
  schedules: number,
  env: Readonly<Record<string, string | undefined>>,
): Promise<Backend> {
  const modelCacheSize = Math.max(2, schedules);
  if (name === 'node') {
    const node = await import('@pumer/backend-node');
    return node.createNodeBackend({
      provider: node.parseProviderRequest(env[node.PROVIDER_ENV], node.PROVIDER_ENV),
      modelCacheSize,
    });
  }
  if (name === 'webgpu') {
    const webgpu = await import('@pumer/backend-webgpu');
    return webgpu.createWebGpuBackend({
      provider: webgpu.parseProviderRequest(env[webgpu.PROVIDER_ENV], webgpu.PROVIDER_ENV),
      modelCacheSize,
    });
  }
  return loadBackend(name);
}

export function checkFile(file: string, what: string): string {
  if (!existsSync(file)) throw new CliError(`${what} not found: ${file}`);
  if (!statSync(file).isFile()) throw new CliError(`${what} is not a file: ${file}`);
  return file;
}

/** What `--labels` and `--tokenizer` give the checkpoint loader (paths already resolved against the cwd). */
export interface ModelFileOptions {
  /** A JSON label list (index -> answer), replacing config.json's id2label. */
  readonly labels?: string;
  /** A tokenizer.json, or a folder holding one. */
  readonly tokenizer?: string;
}

/** `--labels` / `--tokenizer` as given on the command line, resolved against `cwd`. */
export function modelFileOptions(
  cwd: string,
  flags: { labels?: string; tokenizer?: string },
): ModelFileOptions {
  return {
    ...(flags.labels !== undefined ? { labels: path.resolve(cwd, flags.labels) } : {}),
    ...(flags.tokenizer !== undefined ? { tokenizer: path.resolve(cwd, flags.tokenizer) } : {}),
  };
}

/**
 * Loads a checkpoint directory (either layout, with `--labels` / `--tokenizer`); a missing or unreadable one,
 * a missing tokenizer or label list, or an unsupported head is one clear CLI error.
 */
export async function loadModel(dir: string, files: ModelFileOptions = {}): Promise<LoadedVilt> {
  if (!existsSync(dir)) throw new CliError(`model directory not found: ${dir}`);
  if (!statSync(dir).isDirectory()) throw new CliError(`model is not a directory: ${dir}`);
  const { loadVilt } = await vilt();
  try {
    return loadVilt(dir, files);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new CliError(
      `cannot read model ${dir}: ${msg.startsWith(dir) ? msg.slice(dir.length).replace(/^:\s*/, '') : msg}`,
      { cause: err },
    );
  }
}

export type MeterNode = typeof import('@pumer/meter/node');

export async function meter(): Promise<MeterNode> {
  return import('@pumer/meter/node');
}

/**
 * Whether `dir` holds a METER checkpoint (its config.json's model_type is "meter"): @pumer/meter decides. A
 * config.json that does not even contain the word is not one, so a ViLT run never loads @pumer/meter.
 */
export async function isMeterDir(dir: string): Promise<boolean> {
  let text: string;
  try {
    text = readFileSync(path.join(dir, 'config.json'), 'utf8');
  } catch {
    return false; // no readable config.json: the ViLT loader says what is wrong
  }
  return text.includes('"meter"') && (await meter()).isMeterCheckpoint(dir);
}

/** Loads a METER checkpoint directory (with `--labels` / `--tokenizer`); a problem is one clear CLI error. */
export async function loadMeterModel(dir: string, files: ModelFileOptions = {}): Promise<LoadedMeter> {
  if (!existsSync(dir)) throw new CliError(`model directory not found: ${dir}`);
  const { loadMeter } = await meter();
  try {
    return loadMeter(dir, files);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new CliError(
      `cannot read model ${dir}: ${msg.startsWith(dir) ? msg.slice(dir.length).replace(/^:\s*/, '') : msg}`,
      { cause: err },
    );
  }
}

export async function defaultModelDir(): Promise<string> {
  return (await vilt()).defaultModelDir();
}

export async function bundledImages(): Promise<{ path: string; question: string; answer: string }[]> {
  return (await vilt()).bundledImages();
}

/** One kernel in an onnxruntime profile; CPU nodes also carry the arena's counters (decimal strings). */
interface KernelEvent {
  readonly cat?: string;
  readonly name?: string;
  readonly dur?: number;
  readonly args?: {
    readonly op_name?: string;
    readonly mem_bytes_requested_in_use?: string;
    readonly mem_arena_held?: string;
  };
}

/**
 * Kernel microseconds in an onnxruntime profile: in total, and for the nodes of the reduce steps, which
 * @pumer/onnx names `layer<i>/reduce/…` (profile events are `<node name>_kernel_time`), per op type.
 */
export function reducerKernelTime(events: readonly KernelEvent[]): {
  total: number;
  reducer: number;
  byOpType: Map<string, number>;
} {
  let total = 0;
  let reducer = 0;
  const byOpType = new Map<string, number>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time')) continue;
    const us = e.dur ?? 0;
    total += us;
    if (/(^|\/)reduce\//.test(e.name)) {
      reducer += us;
      const op = e.args?.op_name ?? 'unknown';
      byOpType.set(op, (byOpType.get(op) ?? 0) + us);
    }
  }
  return { total, reducer, byOpType };
}

const PROFILED_RUNS = 3;

/**
 * The profile of `runs` runs of the whole-model graph in a separate node session with onnxruntime's profiler
 * on (profiling slows a session, so measured sessions never have it).
 */
async function profileNodeRuns(
  backend: Backend,
  model: ViltModel,
  inputs: ViltInputs,
  config: ReductionConfig | null,
  runs: number,
): Promise<KernelEvent[]> {
  const node = await import('@pumer/backend-node');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pumer-profile-'));
  const profiled = await node.createNodeBackend({
    provider: backend.info().provider === 'cuda' ? 'cuda' : 'cpu',
    profilePrefix: path.join(dir, 'profile'),
    modelCacheSize: 1,
  });
  try {
    for (let i = 0; i < runs; i++) await profiled.runVilt(model, inputs, config);
    const cfg = config ? validateReductionConfig(config, model.geometry.numLayers) : null;
    const compiled = await profiled.viltSession(model, node.NodeBackend.geometryOf(model, inputs), cfg);
    compiled.session.endProfiling();
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    if (!file) throw new Error('onnxruntime wrote no profile');
    return JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as KernelEvent[];
  } finally {
    await profiled.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What onnxruntime's CPU arena held over one run, in bytes (see nodeArenaBytes). */
export interface ArenaBytes {
  readonly what: string;
  /** Most bytes requested at once: the tensors alive together, the pre-packed weights included. */
  readonly peak: number;
  /** Bytes the arena holds after the run (reserved; resident only where written). */
  readonly after: number;
}

/**
 * The CPU arena over one run of the model on the node backend's CPU provider, from the counters onnxruntime's
 * profiler writes with every node: what the graph asks for, as against what the resident set shows. Measured in
 * a separate profiled session, so it adds that session's memory to the calling process.
 */
export async function nodeArenaBytes(
  backend: Backend,
  model: ViltModel,
  inputs: ViltInputs,
  config: ReductionConfig | null,
): Promise<ArenaBytes> {
  const events = await profileNodeRuns(backend, model, inputs, config, 1);
  let peak = 0;
  let after = 0;
  for (const e of events) {
    if (e.cat !== 'Node') continue;
    const requested = Number(e.args?.mem_bytes_requested_in_use);
    const held = Number(e.args?.mem_arena_held);
    if (Number.isFinite(requested)) peak = Math.max(peak, requested);
    if (Number.isFinite(held)) after = held;
  }
  if (peak === 0) throw new Error('the onnxruntime profile holds no arena counters');
  return {
    what: "onnxruntime's CPU arena (its profiler's counters, one run in a separate profiled session): most bytes requested at once, pre-packed weights included; after: bytes the arena holds",
    peak,
    after,
  };
}

/**
 * The node backend's share of kernel time spent in the reduce steps, from onnxruntime's own profiler. The
 * reduced graph is profiled over a few runs in a separate session (profiling slows a session, so the timed
 * sessions never have it on).
 */
export async function nodeReducerShare(
  backend: Backend,
  model: ViltModel,
  inputs: ViltInputs,
  config: ReductionConfig,
): Promise<ReducerShare> {
  const events = await profileNodeRuns(backend, model, inputs, config, PROFILED_RUNS);
  const { total, reducer, byOpType } = reducerKernelTime(events);
  if (total === 0) throw new Error('the onnxruntime profile holds no kernel events');
  return {
    share: reducer / total,
    method: `onnxruntime's profiler on the reduced graph, in a separate profiled session (${PROFILED_RUNS} runs): kernel time of the nodes @pumer/onnx scopes as layer<i>/reduce/… (saliency, top-k, merges, mask updates) ÷ all kernel time`,
    opTypes: Object.fromEntries([...byOpType].map(([op, us]) => [op, us / 1000 / PROFILED_RUNS])),
  };
}
