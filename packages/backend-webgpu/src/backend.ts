import { OrtGraphBackend } from '@pumer/onnx';
import type { Placement } from './placement.js';
import {
  type Provider,
  type WebGpuBackendInfo,
  WebGpuRuntime,
  type WebGpuRuntimeOptions,
} from './runtime.js';

export interface WebGpuBackendOptions extends WebGpuRuntimeOptions {
  /** Whole-model sessions kept (each holds the model's weights on the device). Default 2. */
  readonly modelCacheSize?: number;
}

/**
 * PuMer.js on onnxruntime-web: the reducers, single blocks and the whole reduced ViLT run as @pumer/onnx
 * graphs on the `webgpu` execution provider (browser, or Node through Dawn), or on `wasm` when WebGPU is
 * not there — and `info()` says which ran, why, and which ops ORT kept off the GPU.
 */
export class WebGpuBackend extends OrtGraphBackend {
  constructor(
    private readonly ortRuntime: WebGpuRuntime,
    options: WebGpuBackendOptions = {},
  ) {
    super('webgpu', ortRuntime, options);
  }

  override info(): WebGpuBackendInfo {
    return { name: this.name, ...this.ortRuntime.info() };
  }

  /** The provider sessions run on now. */
  get provider(): Provider {
    return this.ortRuntime.provider;
  }

  /** ORT's node placement per compiled graph (webgpu only; labels name the graph and its cache key). */
  placements(): ReadonlyMap<string, Placement> {
    return this.ortRuntime.placements();
  }
}

/** Creates the backend: finds WebGPU (Dawn in Node), loads onnxruntime-web, settles the provider. */
export async function createWebGpuBackend(options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
  return new WebGpuBackend(await WebGpuRuntime.create(options), options);
}
