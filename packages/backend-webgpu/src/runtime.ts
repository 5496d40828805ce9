import { BackendError, type BackendInfo } from '@pumer/core';
import type { GraphRuntime, RuntimeFeeds, RuntimeOutputs, RuntimeSession, RuntimeTensor } from '@pumer/onnx';
import type * as OrtModule from 'onnxruntime-web';
import {
  acquireGpu,
  type GpuAdapterDescription,
  type GpuEnvironment,
  GpuUnavailable,
  isNode,
  softwareAdapterWarning,
} from './environment.js';
import {
  captureOrtLog,
  opsOffloadedFrom,
  type Placement,
  parsePlacement,
  prepareLogCapture,
} from './placement.js';

type Ort = typeof OrtModule;

/** What the caller may ask for. */
export type ProviderRequest = 'auto' | 'webgpu' | 'wasm';
/** What can actually run. */
export type Provider = 'webgpu' | 'wasm';

export const PROVIDER_REQUESTS: readonly ProviderRequest[] = ['auto', 'webgpu', 'wasm'];

/** ORT names its providers like this in the session log. */
const WEBGPU_EP = 'WebGpuExecutionProvider';

export interface WebGpuRuntimeOptions {
  /** 'auto' (WebGPU, else wasm with the reason reported), 'webgpu' (or fail), 'wasm'. Default 'auto'. */
  readonly provider?: ProviderRequest;
  /**
   * Where onnxruntime-web finds its .wasm/.mjs files (`ort.env.wasm.wasmPaths`): a URL prefix ending in '/'
   * or a map of file names. Default: next to onnxruntime-web's own module, which works in Node and with
   * bundlers that handle `new URL(…, import.meta.url)` (Vite does).
   */
  readonly wasmPaths?: string | Record<string, string>;
  /** wasm threads (`ort.env.wasm.numThreads`). Default 1 in Node (Dawn's queue and ORT's workers do not mix); ORT's default in browsers. */
  readonly numThreads?: number;
  /** Node: compile ORT's wasm with Liftoff only (see environment.ts). Default true. */
  readonly liftoffOnly?: boolean;
  /** Record per-graph op placement from ORT's verbose session log. Default true. */
  readonly recordPlacement?: boolean;
}

/** BackendInfo plus what is specific to this backend. */
export interface WebGpuBackendInfo extends BackendInfo {
  /** That adapter's vendor, architecture, device, description, and whether it is software (webgpu only). */
  readonly adapterInfo?: GpuAdapterDescription;
  /** Node: what was set up to get WebGPU (Vulkan ICD, V8 flags). */
  readonly notes?: readonly string[];
}

export function parseProviderRequest(value: string | undefined, source: string): ProviderRequest {
  if (value === undefined || value === '') return 'auto';
  const v = value.trim().toLowerCase();
  if ((PROVIDER_REQUESTS as readonly string[]).includes(v)) return v as ProviderRequest;
  throw new BackendError(`${source} must be one of ${PROVIDER_REQUESTS.join(', ')}; got "${value}"`);
}

let ortModule: Promise<Ort> | null = null;
/** onnxruntime-web's WebGPU build (it carries the wasm provider too), imported once. */
function loadOrt(): Promise<Ort> {
  ortModule ??= import('onnxruntime-web/webgpu') as Promise<Ort>;
  return ortModule;
}

let gpuOnce: Promise<GpuEnvironment> | null = null;
/** One device per process / page: ORT keeps using it across sessions and backend instances. */
function sharedGpu(liftoffOnly: boolean): Promise<GpuEnvironment> {
  gpuOnce ??= acquireGpu({ liftoffOnly });
  gpuOnce.catch(() => {
    gpuOnce = null;
  });
  return gpuOnce;
}

function message(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}

/**
 * onnxruntime-web behind the GraphRuntime interface: picks the provider (reporting a fallback), compiles
 * sessions one at a time (so each one's placement log is its own) and runs them.
 */
export class WebGpuRuntime implements GraphRuntime {
  private providerNow: Provider;
  private fallbackReason: string | undefined;
  private webgpuSessions = 0;
  private readonly placementByGraph = new Map<string, Placement>();
  private compileQueue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly ort: Ort,
    readonly requested: ProviderRequest,
    private readonly gpu: GpuEnvironment | null,
    fallbackReason: string | undefined,
    private readonly recordPlacement: boolean,
  ) {
    this.providerNow = gpu ? 'webgpu' : 'wasm';
    this.fallbackReason = fallbackReason;
  }

  static async create(options: WebGpuRuntimeOptions = {}): Promise<WebGpuRuntime> {
    const requested = options.provider ?? 'auto';
    if (!(PROVIDER_REQUESTS as readonly string[]).includes(requested)) {
      throw new BackendError(
        `provider must be one of ${PROVIDER_REQUESTS.join(', ')}; got "${String(requested)}"`,
      );
    }
    const recordPlacement = options.recordPlacement ?? true;
    // Browsers bind ORT's log sinks when its wasm is instantiated: intercept before that.
    if (recordPlacement) await prepareLogCapture();
    let gpu: GpuEnvironment | null = null;
    let fallbackReason: string | undefined;
    if (requested !== 'wasm') {
      try {
        gpu = await sharedGpu(options.liftoffOnly ?? true);
      } catch (err) {
        if (!(err instanceof GpuUnavailable)) throw err;
        if (requested === 'webgpu') throw new BackendError(`provider "webgpu" requested but ${err.message}`);
        fallbackReason = err.message;
      }
    } else if (isNode()) {
      // Same V8 setting on the wasm path so both providers are compared on equal terms.
      await import('./environment.js').then((m) => m.prepareNode(options.liftoffOnly ?? true));
    }
    const ort = await loadOrt();
    if (options.wasmPaths !== undefined) ort.env.wasm.wasmPaths = options.wasmPaths;
    if (options.numThreads !== undefined) ort.env.wasm.numThreads = options.numThreads;
    else if (isNode()) ort.env.wasm.numThreads = 1;
    return new WebGpuRuntime(ort, requested, gpu, fallbackReason, recordPlacement);
  }

  get provider(): Provider {
    return this.providerNow;
  }

  info(): Omit<WebGpuBackendInfo, 'name'> {
    const offloaded = this.offloadedOps();
    return {
      provider: this.providerNow,
      ...(this.requested !== this.providerNow ? { requested: this.requested } : {}),
      ...(this.fallbackReason ? { fallbackReason: this.fallbackReason } : {}),
      ...(offloaded ? { offloadedOps: offloaded } : {}),
      ...(this.providerNow === 'webgpu' && this.gpu ? this.adapterFields(this.gpu) : {}),
      ...(this.gpu?.notes.length ? { notes: this.gpu.notes } : {}),
    };
  }

  private adapterFields(gpu: GpuEnvironment): Pick<WebGpuBackendInfo, 'adapter' | 'adapterInfo' | 'warning'> {
    const warning = softwareAdapterWarning(gpu.adapterInfo);
    return { adapter: gpu.adapter, adapterInfo: gpu.adapterInfo, ...(warning ? { warning } : {}) };
  }

  /**
   * Op types ORT placed on its CPU kernels instead of WebGPU, over every session compiled so far (ORT's
   * Memcpy nodes left out). Undefined on wasm, or when no placement was recorded.
   */
  offloadedOps(): string[] | undefined {
    if (this.providerNow !== 'webgpu' || this.placementByGraph.size === 0) return undefined;
    const ops = new Set<string>();
    for (const p of this.placementByGraph.values())
      for (const op of opsOffloadedFrom(p, WEBGPU_EP)) ops.add(op);
    return [...ops].sort();
  }

  /** Per compiled graph (by label): ORT's node placement, op types per execution provider. */
  placements(): ReadonlyMap<string, Placement> {
    return this.placementByGraph;
  }

  tensor(type: 'float32' | 'int32', data: Float32Array | Int32Array, dims: readonly number[]): RuntimeTensor {
    return new this.ort.Tensor(type, data, [...dims]);
  }

  createSession(bytes: Uint8Array, label: string): Promise<RuntimeSession> {
    const next = this.compileQueue.then(() => this.compileNow(bytes, label));
    this.compileQueue = next.catch(() => undefined);
    return next;
  }

  private baseOptions(): OrtModule.InferenceSession.SessionOptions {
    return { graphOptimizationLevel: 'all', executionMode: 'sequential' };
  }

  private async compileNow(bytes: Uint8Array, label: string): Promise<RuntimeSession> {
    if (this.providerNow === 'webgpu') {
      try {
        const session = await this.createWebGpuSession(bytes, label);
        this.webgpuSessions++;
        return this.wrap(session);
      } catch (err) {
        if (this.requested !== 'auto' || this.webgpuSessions > 0) {
          throw new BackendError(`onnxruntime-web (webgpu) could not load graph ${label}: ${message(err)}`, {
            cause: err,
          });
        }
        // The provider itself does not start here: everything moves to wasm, and we say so.
        this.providerNow = 'wasm';
        this.fallbackReason = `onnxruntime-web's webgpu provider failed to start: ${message(err)}`;
      }
    }
    try {
      const session = await this.ort.InferenceSession.create(bytes, {
        ...this.baseOptions(),
        executionProviders: ['wasm'],
      });
      return this.wrap(session);
    } catch (err) {
      throw new BackendError(`onnxruntime-web (wasm) could not load graph ${label}: ${message(err)}`, {
        cause: err,
      });
    }
  }

  private async createWebGpuSession(bytes: Uint8Array, label: string): Promise<OrtModule.InferenceSession> {
    const options: OrtModule.InferenceSession.SessionOptions = {
      ...this.baseOptions(),
      executionProviders: [
        { name: 'webgpu', device: this.gpu!.device } as OrtModule.InferenceSession.ExecutionProviderConfig,
      ],
      logSeverityLevel: 2,
    };
    if (this.recordPlacement) {
      // ORT lists where every node went only in its verbose session log, and a verbose session stays
      // verbose when it runs (one line per kernel, whatever the run options say). So: compile once verbose
      // to read the placement, release it, and compile the session that runs quietly.
      const { result: verbose, lines } = await captureOrtLog(() =>
        this.ort.InferenceSession.create(bytes, { ...options, logSeverityLevel: 0 }),
      );
      await verbose.release();
      const placement = parsePlacement(lines);
      // No placement lines: the log went elsewhere (ORT instantiated before we could intercept). Record nothing.
      if (Object.keys(placement.nodeCounts).length > 0) this.placementByGraph.set(label, placement);
    }
    return this.ort.InferenceSession.create(bytes, options);
  }

  private wrap(session: OrtModule.InferenceSession): RuntimeSession {
    return {
      run: async (feeds: RuntimeFeeds): Promise<RuntimeOutputs> =>
        session.run(feeds as OrtModule.InferenceSession.FeedsType),
      release: () => session.release(),
    };
  }
}
