import { availableParallelism } from 'node:os';
import { BackendError, type BackendInfo, type ViltInputs, type ViltModel } from '@pumer/core';
import {
  type GraphKind,
  type GraphRuntime,
  OrtGraphBackend,
  type RuntimeTensor,
  type ViltGraphGeometry,
  viltGeometryOf,
} from '@pumer/onnx';
import * as ort from 'onnxruntime-node';
import { chooseProvider, type Provider, type ProviderChoice, type ProviderRequest } from './provider.js';

export interface NodeBackendOptions {
  /** Execution provider: 'auto' (CUDA when installed, else CPU), 'cuda' (or fail), 'cpu'. Default 'auto'. */
  readonly provider?: ProviderRequest;
  /** Intra-op threads; default os.availableParallelism(). */
  readonly threads?: number;
  /** Whole-model sessions kept (each holds the model's weights). Default 2. */
  readonly modelCacheSize?: number;
  /** Turns on ORT's profiler for whole-model sessions; files are written under this prefix. */
  readonly profilePrefix?: string;
  /**
   * Keep onnxruntime's worker threads spin-waiting between runs (ORT's default). Off by default: threads spin
   * during a run (fast op dispatch) and stop when it ends. Every session owns a thread pool, and this backend
   * keeps several (reducer graphs, one per model geometry and schedule); pools left spinning after their run
   * steal the cores the next session needs (up to 4x slower in an interleaved benchmark).
   */
  readonly spinWait?: boolean;
}

/**
 * onnxruntime-node behind @pumer/onnx's GraphRuntime: sessions on the chosen provider with full graph
 * optimisation, every core, and ORT's profiler on whole-model sessions when a prefix is given.
 */
class NodeRuntime implements GraphRuntime<ort.InferenceSession> {
  private readonly threads: number;
  private readonly profilePrefix: string | undefined;
  private readonly spinWait: boolean;

  constructor(
    readonly choice: ProviderChoice,
    options: NodeBackendOptions,
  ) {
    this.threads = options.threads ?? availableParallelism();
    this.profilePrefix = options.profilePrefix;
    this.spinWait = options.spinWait ?? false;
  }

  info(): Omit<BackendInfo, 'name'> {
    return {
      provider: this.choice.provider,
      ...(this.choice.requested !== this.choice.provider ? { requested: this.choice.requested } : {}),
      ...(this.choice.fallbackReason ? { fallbackReason: this.choice.fallbackReason } : {}),
    };
  }

  sessionOptions(profile: boolean): ort.InferenceSession.SessionOptions {
    return {
      executionProviders: [this.choice.provider],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: this.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      extra: {
        session: { intra_op: { allow_spinning: '1' }, force_spinning_stop: this.spinWait ? '0' : '1' },
      },
      ...(profile && this.profilePrefix
        ? { enableProfiling: true, profileFilePrefix: this.profilePrefix }
        : {}),
    };
  }

  tensor(type: 'float32' | 'int32', data: Float32Array | Int32Array, dims: readonly number[]): RuntimeTensor {
    return new ort.Tensor(type, data, [...dims]);
  }

  async createSession(bytes: Uint8Array, _label: string, kind: GraphKind): Promise<ort.InferenceSession> {
    try {
      return await ort.InferenceSession.create(bytes, this.sessionOptions(kind === 'vilt'));
    } catch (err) {
      throw new BackendError(
        `onnxruntime could not load a PuMer graph: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  }
}

/**
 * PuMer.js on onnxruntime-node: @pumer/onnx's OrtGraphBackend (reducers, single blocks and the whole reduced
 * ViLT as ONNX graphs, sessions cached per graph) on the provider chosen by `chooseProvider`.
 */
export class NodeBackend extends OrtGraphBackend<ort.InferenceSession> {
  private readonly nodeRuntime: NodeRuntime;

  constructor(choice: ProviderChoice, options: NodeBackendOptions = {}) {
    const runtime = new NodeRuntime(choice, options);
    super('node', runtime, options);
    this.nodeRuntime = runtime;
  }

  /** The provider sessions run on. */
  get provider(): Provider {
    return this.nodeRuntime.choice.provider;
  }

  /** Session options: full graph optimisation, all cores, the chosen provider. */
  sessionOptions(profile = false): ort.InferenceSession.SessionOptions {
    return this.nodeRuntime.sessionOptions(profile);
  }

  /** The geometry `inputs` imply for `model` (text length, patch grid), after checking every shape. */
  static geometryOf(model: ViltModel, inputs: ViltInputs): ViltGraphGeometry {
    return viltGeometryOf(model, inputs);
  }
}

/** Creates the node backend, resolving the execution provider first (see NodeBackendOptions.provider). */
export async function createNodeBackend(options: NodeBackendOptions = {}): Promise<NodeBackend> {
  const choice = await chooseProvider(options.provider ?? 'auto');
  return new NodeBackend(choice, options);
}
