/**
 * @pumer/pumer in Node: importing it registers onnxruntime-node (`node`, CUDA when installed, else its CPU
 * provider) and the TypeScript reference (`cpu`), so `auto` — the default of a pipeline created without a
 * backend — runs on `node`. Everything of @pumer/core, @pumer/vilt/node and @pumer/meter/node is re-exported.
 */
import '@pumer/backend-node';
import '@pumer/backend-cpu';

export * from '@pumer/core';
export * from '@pumer/vilt/node';
export * from '@pumer/meter/node';
export { autoBackendNames, importBackend, loadBackend } from './loaders.js';
