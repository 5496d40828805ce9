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

/** Imports a backend package (which registers it) and initialises it through core's registry. */
export async function loadBackend(name: string): Promise<Backend> {
  switch (name) {
    case 'cpu':
      await import('@pumer/backend-cpu');
      break;
    case 'node':
      await import('@pumer/backend-node');
      break;
    case 'webgpu':
      await import('@pumer/backend-webgpu');
      break;
    default:
      throw new CliError(`unknown backend "${name}" (expected cpu, node or webgpu)`);
  }
  const { findBackend } = await import('@pumer/core');
  // A fallback (e.g. node without CUDA) is announced by the backend itself, once, on stderr.
  return findBackend(name);
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

/** Loads a checkpoint directory; a missing or unreadable one is one clear CLI error. */
export async function loadModel(dir: string): Promise<LoadedVilt> {
  if (!existsSync(dir)) throw new CliError(`model directory not found: ${dir}`);
  if (!statSync(dir).isDirectory()) throw new CliError(`model is not a directory: ${dir}`);
  const { loadVilt } = await vilt();
  try {
    return loadVilt(dir);
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

/** Kernel microseconds per ONNX op type in an onnxruntime profile (the `*_kernel_time` events). */
export function kernelTimeByOpType(
  events: readonly { cat?: string; name?: string; dur?: number; args?: { op_name?: string } }[],
): Map<string, number> {
  const byOp = new Map<string, number>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || !e.args?.op_name) continue;
    byOp.set(e.args.op_name, (byOp.get(e.args.op_name) ?? 0) + (e.dur ?? 0));
  }
  return byOp;
}

/**
 * Runs the whole-model graph `runs` times in a fresh node-backend session with onnxruntime's profiler on and
 * returns kernel microseconds per op type (summed over the runs).
 */
async function profileNode(
  provider: string,
  model: ViltModel,
  inputs: ViltInputs,
  config: ReductionConfig | null,
  runs: number,
): Promise<Map<string, number>> {
  const node = await import('@pumer/backend-node');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pumer-profile-'));
  const backend = await node.createNodeBackend({
    provider: provider === 'cuda' ? 'cuda' : 'cpu',
    profilePrefix: path.join(dir, 'profile'),
    modelCacheSize: 1,
  });
  try {
    for (let i = 0; i < runs; i++) await backend.runVilt(model, inputs, config);
    const cfg = config ? validateReductionConfig(config, model.geometry.numLayers) : null;
    const compiled = await backend.viltSession(model, node.NodeBackend.geometryOf(model, inputs), cfg);
    compiled.session.endProfiling();
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    if (!file) throw new Error('onnxruntime wrote no profile');
    return kernelTimeByOpType(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
  } finally {
    await backend.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

const profileCache = new Map<string, Promise<Map<string, number>>>();
const PROFILED_RUNS = 3;

/**
 * The node backend's share of kernel time in reducer ops, from onnxruntime's own profiler: the reduced and
 * the unreduced graph are each profiled over a few runs in a separate session (profiling slows a session,
 * so the timed sessions never have it on); the op types that occur only in the reduced graph are the
 * reducer's, and their kernel time is divided by all kernel time of the reduced graph.
 */
export async function nodeReducerShare(
  backend: Backend,
  model: ViltModel,
  inputs: ViltInputs,
  config: ReductionConfig,
): Promise<ReducerShare> {
  const provider = backend.info().provider;
  const baseKey = `${model.id}|${inputs.inputIds.shape.join('x')}|${provider}`;
  let base = profileCache.get(baseKey);
  if (!base) {
    base = profileNode(provider, model, inputs, null, PROFILED_RUNS);
    profileCache.set(baseKey, base);
  }
  const reduced = await profileNode(provider, model, inputs, config, PROFILED_RUNS);
  const baseOps = await base;
  let total = 0;
  let reducer = 0;
  const opTypes: Record<string, number> = {};
  for (const [op, us] of reduced) {
    total += us;
    if (!baseOps.has(op)) {
      reducer += us;
      opTypes[op] = us / 1000 / PROFILED_RUNS;
    }
  }
  return {
    share: total > 0 ? reducer / total : 0,
    method:
      "onnxruntime's profiler, in a separate session (3 profiled runs): kernel time of the op types that occur only in the reduced graph ÷ all kernel time of the reduced graph. A lower bound: reducer kernels of op types that attention and the MLP also use (MatMul, ReduceSum, Mul, Gather, …) are not counted.",
    opTypes,
  };
}
