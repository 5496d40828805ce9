/**
 * @pumer/pumer in a browser: importing it registers WebGPU (`webgpu`, onnxruntime-web with its reported wasm
 * fallback) and the TypeScript reference (`cpu`), so `auto` runs on WebGPU. Everything of @pumer/core,
 * @pumer/vilt and @pumer/meter is re-exported. A page that needs onnxruntime-web options (wasm paths) registers its own
 * `webgpu` factory with core's `registerBackend`, which replaces this one.
 */
import '@pumer/backend-webgpu';
import '@pumer/backend-cpu';

export * from '@pumer/core';
export * from '@pumer/vilt';
export * from '@pumer/meter';
export { autoBackendNames, importBackend, loadBackend } from './loaders.js';
