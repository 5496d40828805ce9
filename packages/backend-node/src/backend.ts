import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { BackendError, type BackendInfo, type ViltInputs, type ViltModel } from '@pumer/core';
import {
  type GraphCacheOutcome,
  type GraphKind,
  type GraphRuntime,
  type GraphSession,
  OrtGraphBackend,
  type RuntimeTensor,
  type ViltGraphGeometry,
  viltGeometryOf,
} from '@pumer/onnx';
import type { ExternalDataModel, GraphBuilder } from '@pumer/onnx/graph';
import { writeExternalData } from '@pumer/onnx/node';
import * as ort from 'onnxruntime-node';
import { contentFingerprint, graphLibraryVersion } from './content-key.js';
import { GRAPH_DATA_FILE, GraphDiskCache, graphCacheDirFromEnv } from './graph-cache.js';
import { chooseProvider, type Provider, type ProviderChoice, type ProviderRequest } from './provider.js';

/** `0` turns weight pre-packing off for the registry's node backend (NodeBackendOptions.prepacking). */
export const PREPACK_ENV = 'PUMER_NODE_PREPACK';

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
  /**
   * The on-disk graph cache's folder, or false for none (whole-model graphs are then written to a temporary
   * folder, loaded and removed). Default: graphCacheDirFromEnv() ($PUMER_GRAPH_CACHE, else ~/.cache/pumer/graphs).
   */
  readonly graphCache?: string | false;
  /** Bound on the graph cache's size in bytes (default 4 GiB; the least recently used entries go first). */
  readonly graphCacheMaxBytes?: number;
  /**
   * Let onnxruntime pre-pack the weights of whole-model graphs for its matrix kernels at session creation
   * (ORT's default; default true). Packing costs session time (ViLT-B/32: ~0.6 s more) but not peak memory
   * (the packed copy replaces the mapped original), and saves ~20% per run at batch 8; a process that answers
   * once (`pumer run`) starts sooner without it (docs/benchmark.md, "Start-up").
   */
  readonly prepacking?: boolean;
}

/**
 * onnxruntime-node behind @pumer/onnx's GraphRuntime: sessions on the chosen provider with full graph
 * optimisation, every core, and ORT's profiler on whole-model sessions when a prefix is given.
 */
class NodeRuntime implements GraphRuntime<ort.InferenceSession> {
  private readonly threads: number;
  private readonly profilePrefix: string | undefined;
  private readonly spinWait: boolean;
  private readonly prepacking: boolean;
  /** The on-disk graph cache, or null when disabled. */
  readonly graphCache: GraphDiskCache | null;

  constructor(
    readonly choice: ProviderChoice,
    options: NodeBackendOptions,
  ) {
    this.threads = options.threads ?? availableParallelism();
    this.profilePrefix = options.profilePrefix;
    this.spinWait = options.spinWait ?? false;
    this.prepacking = options.prepacking ?? true;
    const dir = options.graphCache === undefined ? graphCacheDirFromEnv() : options.graphCache;
    this.graphCache = dir ? new GraphDiskCache(dir, graphLibraryVersion(), options.graphCacheMaxBytes) : null;
  }

  info(): Omit<BackendInfo, 'name'> {
    return {
      provider: this.choice.provider,
      ...(this.choice.requested !== this.choice.provider ? { requested: this.choice.requested } : {}),
      ...(this.choice.fallbackReason ? { fallbackReason: this.choice.fallbackReason } : {}),
    };
  }

  sessionOptions(profile: boolean, wholeModel = profile): ort.InferenceSession.SessionOptions {
    const prepack = wholeModel && !this.prepacking ? { disable_prepacking: '1' } : {};
    return {
      executionProviders: [this.choice.provider],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: this.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      // ORT's memory pattern allocates, from the second run on, one block for all of a run's tensors on top of
      // the arena chunks the first run left: ~180 MB more at batch 32 on ViLT-B/32, and more for reduced
      // graphs, whose layers change shape (docs/benchmark.md, "Memory"). The arena alone reuses its chunks.
      ...(wholeModel ? { enableMemPattern: false } : {}),
      extra: {
        session: {
          intra_op: { allow_spinning: '1' },
          force_spinning_stop: this.spinWait ? '0' : '1',
          ...prepack,
        },
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
    return this.load(bytes, kind === 'vilt' || kind === 'meter');
  }

  private async load(model: Uint8Array | string, wholeModel: boolean): Promise<ort.InferenceSession> {
    try {
      return await ort.InferenceSession.create(model as string, this.sessionOptions(wholeModel, wholeModel));
    } catch (err) {
      throw new BackendError(
        `onnxruntime could not load a PuMer graph: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  }

  /** Graph keys whose stored entry `openCachedGraphSession` found damaged (and removed): rebuilt next. */
  private readonly damagedKeys = new Set<string>();

  /**
   * A whole-model session straight from the graph cache's entry for `key`, if it holds one: no graph is built,
   * so a warm start reads neither the model's weights nor the graph code's output (the key carries the model's
   * content hash, which a checkpoint memo remembers across processes).
   */
  readonly openCachedGraphSession = async (
    key: string,
    _label: string,
  ): Promise<(GraphSession<ort.InferenceSession> & { readonly about: unknown }) | null> => {
    const found = this.graphCache?.find(key);
    if (found?.found === 'damaged') this.damagedKeys.add(key);
    if (found?.found !== 'entry') return null;
    const created = performance.now();
    try {
      const session = await this.load(found.onnxPath, true);
      const createSessionMs = performance.now() - created;
      return { session, graphCache: 'hit', writeGraphMs: 0, createSessionMs, about: found.about };
    } catch {
      // A damaged entry the checks did not catch (e.g. corrupted weights bytes): rebuilt by createGraphSession.
      this.graphCache?.removeFound(found.onnxPath);
      this.damagedKeys.add(key);
      return null;
    }
  };

  /**
   * A whole-model session from its builder: written as ONNX with external data (weights streamed to a file,
   * never serialised into one buffer) and loaded from disk, through the graph cache when there is one.
   */
  readonly createGraphSession = async (
    graph: GraphBuilder,
    key: string,
    _label: string,
    about?: unknown,
  ): Promise<GraphSession<ort.InferenceSession>> => {
    const laid = graph.toExternalData({ location: GRAPH_DATA_FILE });
    const cache = this.graphCache;
    if (!cache) return this.loadUncached(laid);
    let outcome: GraphCacheOutcome = this.damagedKeys.delete(key) ? 'rebuilt' : 'miss';
    const found = cache.lookup(key, laid);
    if (found.found === 'entry') {
      const created = performance.now();
      try {
        const session = await this.load(found.onnxPath, true);
        // Stored without (or before) its key index: index it, so the next start need not build the graph.
        if (about !== undefined) cache.index(key, cache.entryName(key, laid), about);
        return { session, graphCache: 'hit', writeGraphMs: 0, createSessionMs: performance.now() - created };
      } catch {
        // A damaged entry the checks did not catch (e.g. a corrupted weights file): rebuild it.
        cache.remove(key, laid);
        outcome = 'rebuilt';
      }
    } else if (found.found === 'damaged') {
      outcome = 'rebuilt';
    }
    const written = performance.now();
    let onnxPath: string;
    try {
      onnxPath = cache.store(key, laid, about);
    } catch {
      // A cache that cannot be written (read-only, full) must not stop the answer: run without it.
      return this.loadUncached(laid);
    }
    const created = performance.now();
    const session = await this.load(onnxPath, true);
    return {
      session,
      graphCache: outcome,
      writeGraphMs: created - written,
      createSessionMs: performance.now() - created,
    };
  };

  /** A whole-model session through a temporary folder, removed once the session holds what it needs. */
  private async loadUncached(laid: ExternalDataModel): Promise<GraphSession<ort.InferenceSession>> {
    const dir = mkdtempSync(path.join(tmpdir(), 'pumer-graph-'));
    try {
      const written = performance.now();
      writeExternalData(laid, path.join(dir, 'model.onnx'), GRAPH_DATA_FILE);
      const created = performance.now();
      const session = await this.load(path.join(dir, 'model.onnx'), true);
      const createSessionMs = performance.now() - created;
      return { session, graphCache: 'off', writeGraphMs: created - written, createSessionMs };
    } finally {
      // The session has read (or mapped) what it needs; a mapped file stays readable once unlinked.
      rmSync(dir, { recursive: true, force: true });
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
    super('node', runtime, { ...options, fingerprint: contentFingerprint });
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

  /** The on-disk graph cache's folder, or null when it is disabled. */
  get graphCacheDir(): string | null {
    return this.nodeRuntime.graphCache?.dir ?? null;
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
