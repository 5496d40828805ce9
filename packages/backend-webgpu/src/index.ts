import { registerBackend } from '@pumer/core';
import { createWebGpuBackend } from './backend.js';
import { parseProviderRequest } from './runtime.js';

export { createWebGpuBackend, WebGpuBackend, type WebGpuBackendOptions } from './backend.js';
export {
  type GpuAdapterDescription,
  SOFTWARE_ADAPTER_NAMES,
  SWIFTSHADER_ICD,
} from './environment.js';
export { opsOffloadedFrom, type Placement, parsePlacement } from './placement.js';
export {
  PROVIDER_REQUESTS,
  type Provider,
  type ProviderRequest,
  parseProviderRequest,
  type WebGpuBackendInfo,
  WebGpuRuntime,
  type WebGpuRuntimeOptions,
} from './runtime.js';

/** Node, Deno and Bun set process.versions.node; browsers and web workers do not. */
const IN_NODE =
  typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';

/**
 * In a browser 3, above node (2) and cpu (1): `auto` prefers the GPU. In Node 0: there WebGPU is usually a
 * software adapter (SwiftShader), far slower than onnxruntime-node or the CPU reference, so `auto` takes it
 * only when nothing else initialises.
 */
export const WEBGPU_BACKEND_PRIORITY = IN_NODE ? 0 : 3;

/** The environment variable the registered factory honours in Node: auto | webgpu | wasm. */
export const PROVIDER_ENV = 'PUMER_WEBGPU_PROVIDER';

function providerFromEnv(): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return proc?.env?.[PROVIDER_ENV];
}

// Registered on import with the provider from PUMER_WEBGPU_PROVIDER (Node), default auto. Pages that need
// options (wasmPaths, provider) register their own factory under the same name, or call createWebGpuBackend.
registerBackend(
  'webgpu',
  () => createWebGpuBackend({ provider: parseProviderRequest(providerFromEnv(), PROVIDER_ENV) }),
  WEBGPU_BACKEND_PRIORITY,
);
