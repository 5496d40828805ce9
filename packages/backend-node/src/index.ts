import { registerBackend } from '@pumer/core';
import { createNodeBackend, PREPACK_ENV } from './backend.js';
import { PROVIDER_ENV, parseProviderRequest } from './provider.js';

export { createNodeBackend, NodeBackend, type NodeBackendOptions, PREPACK_ENV } from './backend.js';
export {
  DEFAULT_GRAPH_CACHE_BYTES,
  GRAPH_CACHE_ENV,
  GraphDiskCache,
  graphCacheDirFromEnv,
} from './graph-cache.js';
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

// Registered on import; the provider comes from PUMER_NODE_PROVIDER (auto | cuda | cpu), default auto; weight
// pre-packing from PUMER_NODE_PREPACK (0 turns it off), the graph cache from PUMER_GRAPH_CACHE.
registerBackend(
  'node',
  () =>
    createNodeBackend({
      provider: parseProviderRequest(process.env[PROVIDER_ENV], PROVIDER_ENV),
      prepacking: process.env[PREPACK_ENV] !== '0',
    }),
  NODE_BACKEND_PRIORITY,
);
