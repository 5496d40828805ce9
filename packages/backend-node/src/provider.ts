import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BackendError } from '@pumer/core';
import { GraphBuilder } from '@pumer/onnx/graph';
import * as ort from 'onnxruntime-node';

/** What the caller may ask for. */
export type ProviderRequest = 'auto' | 'cuda' | 'cpu';
/** What can actually run. */
export type Provider = 'cuda' | 'cpu';

export interface ProviderChoice {
  readonly provider: Provider;
  readonly requested: ProviderRequest;
  /** Why `auto` or `cuda` did not get CUDA, in one line. */
  readonly fallbackReason?: string;
}

/** How to get the CUDA provider: onnxruntime-node downloads it at install time, only when told to. */
export const CUDA_INSTALL_HINT =
  'install the CUDA 12 execution provider with `npm install onnxruntime-node --onnxruntime-node-install=cuda12` ' +
  "(or set ONNXRUNTIME_NODE_INSTALL=cuda12 before installing), and allow onnxruntime-node's install script to run " +
  '(pnpm: add it to `onlyBuiltDependencies`; npm 11: `npm approve-builds` or `--allow-scripts`); ' +
  'it needs an NVIDIA GPU with CUDA 12 and cuDNN 9';

/** The environment variable the CLI and registry honour: auto | cuda | cpu. */
export const PROVIDER_ENV = 'PUMER_NODE_PROVIDER';

export function parseProviderRequest(value: string | undefined, source: string): ProviderRequest {
  if (value === undefined || value === '') return 'auto';
  const v = value.trim().toLowerCase();
  if (v === 'auto' || v === 'cuda' || v === 'cpu') return v;
  throw new BackendError(`${source} must be one of auto, cuda, cpu; got "${value}"`);
}

/** Directory holding onnxruntime-node's native binding (and, when installed, the CUDA provider library). */
export function ortNativeDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
  return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

/** The CUDA provider library's file name on this platform. */
function cudaLibraryName(): string {
  return process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
}

/** A one-node model used to check that a provider really initialises. */
function probeModel(): Uint8Array {
  const g = new GraphBuilder('pumer_probe');
  const x = g.input('x', 'float32', [1]);
  g.output(g.add(x, g.float(1)), 'y', 'float32', [1]);
  return g.toOnnxBytes();
}

/**
 * Why CUDA cannot run here, or null when it can. onnxruntime-node 1.30 lists `cuda` as a supported backend
 * (`bundled: false`) on linux-x64 whether or not its library was downloaded, so we look for the library and
 * then create a session with the CUDA provider, which fails without a driver or GPU.
 */
export async function cudaUnavailableReason(): Promise<string | null> {
  const listed = ort.listSupportedBackends?.().some((b) => b.name === 'cuda') ?? false;
  if (!listed)
    return `onnxruntime-node has no CUDA execution provider for ${process.platform}/${process.arch}`;
  let dir: string;
  try {
    dir = ortNativeDir();
  } catch (err) {
    return `cannot locate onnxruntime-node: ${err instanceof Error ? err.message : String(err)}`;
  }
  const lib = join(dir, cudaLibraryName());
  if (!existsSync(lib)) return `the CUDA provider library is not installed: ${lib} is missing`;
  try {
    const session = await ort.InferenceSession.create(probeModel(), { executionProviders: ['cuda'] });
    await session.release();
    return null;
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return `the CUDA provider failed to start: ${msg}`;
  }
}

let noticeShown = false;

/** Resolves a request to the provider that will run; `cuda` without CUDA throws a BackendError with the install hint. */
export async function chooseProvider(requested: ProviderRequest): Promise<ProviderChoice> {
  if (requested === 'cpu') return { provider: 'cpu', requested };
  const reason = await cudaUnavailableReason();
  if (reason === null) return { provider: 'cuda', requested };
  if (requested === 'cuda') {
    throw new BackendError(`provider "cuda" requested but ${reason}; ${CUDA_INSTALL_HINT}`);
  }
  if (!noticeShown) {
    noticeShown = true;
    process.stderr.write(`pumer: backend node runs on CPU (${reason})\n`);
  }
  return { provider: 'cpu', requested, fallbackReason: reason };
}
