import { registerBackend } from '@pumer/core';
import { createNodeBackend } from './backend.js';
import { PROVIDER_ENV, parseProviderRequest } from './provider.js';

export { createNodeBackend, NodeBackend, type NodeBackendOptions } from './backend.js';
export {
  CUDA_INSTALL_HINT,
  chooseProvider,
  cudaUnavailableReason,
  PROVIDER_ENV,
  type Provider,
  type ProviderChoice,
  type ProviderRequest,
  parseProviderRequest,
} from './provider.js';

/** Priority 2: above the CPU reference (1) and, in Node, WebGPU (0): `auto` runs on onnxruntime-node in Node. */
export const NODE_BACKEND_PRIORITY = 2;

// Registered on import; the provider comes from PUMER_NODE_PROVIDER (auto | cuda | cpu), default auto.
registerBackend(
  'node',
  () => createNodeBackend({ provider: parseProviderRequest(process.env[PROVIDER_ENV], PROVIDER_ENV) }),
  NODE_BACKEND_PRIORITY,
);
