import {
  type Backend,
  BackendError,
  type BackendInfo,
  type CoAttentionStepArgs,
  type CoAttentionStepResult,
  type BlockArgs,
  type BlockResult,
  type BlockWeights,
  checkBlockArgs,
  checkImagePasses,
  checkMergeArgs,
  checkPruneArgs,
  checkSaliencyArgs,
  expectFinite,
  expectShape,
  type FloatTensor,
  floatTensor,
  intTensor,
  type MergeArgs,
  type MergeResult,
  type Merger,
  type MeterInputs,
  type MeterModel,
  type MeterOutputs,
  type PruneResult,
  type Pruner,
  planLayer,
  type ReductionConfig,
  type Saliency,
  type SaliencyInputs,
  ShapeError,
  type ViltInputs,
  type ViltModel,
  type ViltOutputs,
  validateReductionConfig,
} from '@pumer/core';
import type { GraphBuilder } from './builder.js';

import {
  buildBlockGraph,
  buildMergeGraph,
  buildPruneGraph,
  buildSaliencyGraph,
  type TraceOutputs,
} from './standalone.js';
import type {
  CompilePhases,
  CreateGraphSession,
  GraphStartup,
  OpenCachedGraphSession,
} from './graph-startup.js';
import { buildViltGraph, scheduleKey, ViltGraphCache, type ViltGraphGeometry } from './vilt.js';
import { MeterSessions } from './meter-session.js';
import { layerTrace, readFloat, readInt } from './trace-outputs.js';
import type { PassLayer } from './vilt/encoder.js';

/**
 * The Backend contract on any onnxruntime JS runtime (onnxruntime-node, onnxruntime-web): pruner, merger,
 * single blocks and the whole reduced ViLT run as the graphs this package builds, with one session per graph.
 * Nothing here knows which runtime or device runs them: that comes in as a `GraphRuntime` object, so this
 * module imports no onnxruntime package and stays browser-safe. The types below are the structural slice of
 * onnxruntime-common's that we use; both runtimes' own Tensor and InferenceSession satisfy them.
 */

/** The slice of onnxruntime-common's Tensor we use. */
export interface RuntimeTensor {
  readonly type: string;
  readonly data: unknown;
  readonly dims: readonly number[];
}

export type RuntimeFeeds = Record<string, RuntimeTensor>;
export type RuntimeOutputs = Readonly<Record<string, RuntimeTensor>>;

/** One compiled graph. */
export interface RuntimeSession {
  run(feeds: RuntimeFeeds): Promise<RuntimeOutputs>;
  release(): Promise<void>;
}

/** Which kind of graph a session is compiled for: a reducer op, one block (or METER step), or a whole model. */
export type GraphKind = 'reducer' | 'block' | 'vilt' | 'meter';

/** What a backend needs from an onnxruntime flavour. `S` is the session type it hands back. */
export interface GraphRuntime<S extends RuntimeSession = RuntimeSession> {
  tensor(type: 'float32' | 'int32', data: Float32Array | Int32Array, dims: readonly number[]): RuntimeTensor;
  /**
   * Compiles a model; `label` names the graph (for errors and placement reports), `kind` says what it is
   * (e.g. to profile whole-model sessions only). Errors should be BackendErrors saying what failed.
   */
  createSession(bytes: Uint8Array, label: string, kind: GraphKind): Promise<S>;
  /**
   * Compiles a whole-model graph from its builder, e.g. as ONNX with external data through an on-disk graph
   * cache under `key` (the graph's content key). Absent: `createSession(graph.toOnnxBytes())`.
   */
  readonly createGraphSession?: CreateGraphSession<S>;
  /** Opens a whole-model graph's session from a cache by its key alone, if the cache holds it. */
  readonly openCachedGraphSession?: OpenCachedGraphSession<S>;
  /** Everything of BackendInfo but the name: the provider that runs, what was asked for, why it differs. */
  info(): Omit<BackendInfo, 'name'>;
}

/**
 * The geometry `inputs` imply for `model` (text length, patch grid, images per example, patch tokens kept per
 * image pass when the pixel mask pads some image), after checking every shape.
 */
export function viltGeometryOf(model: ViltModel, inputs: ViltInputs): ViltGraphGeometry {
  const geo = model.geometry;
  expectShape('inputIds', inputs.inputIds, [null, null]);
  const [b, t] = inputs.inputIds.shape;
  expectShape('attentionMask', inputs.attentionMask, [b, t]);
  const numImages = geo.numImages;
  const perImage = numImages === 1 ? [b] : [b, numImages];
  expectShape('pixelValues', inputs.pixelValues, [...perImage, geo.numChannels, null, null]);
  const passes = checkImagePasses(inputs.pixelValues, inputs.pixelMask, geo.patchSize, numImages);
  if (t < 1 || t > geo.maxTextLength)
    throw new ShapeError(`text length ${t} must be in [1, ${geo.maxTextLength}]`);
  const { gridH, gridW } = passes[0]!.grids;
  // A mask that pads nothing needs no mask input: the batch runs on the unpadded graph.
  const kept = passes.map((p) => p.grids.patches);
  const padded = passes.some((p) => p.grids.padded)
    ? { imagePatches: numImages === 1 ? kept[0]! : kept }
    : {};
  return { textLen: t, gridH, gridW, numImages, ...padded };
}

/** What a whole-model graph's cache entry keeps beside it: each image pass's layers (plans, trace outputs). */
interface ViltGraphAbout {
  readonly imagePasses: readonly (readonly PassLayer[])[];
}

/** The image passes a cache entry's `about` holds, or null when it holds none (e.g. written by other code). */
function passLayersOf(about: unknown): ViltGraphAbout['imagePasses'] | null {
  const passes = (about as Partial<ViltGraphAbout> | null)?.imagePasses;
  const ok =
    Array.isArray(passes) &&
    passes.length > 0 &&
    passes.every((p) => Array.isArray(p) && p.every((l) => typeof l?.plan === 'object' && l.plan !== null));
  return ok ? passes : null;
}

/** A compiled whole-model graph: its session and, per image pass and layer, the plan and its trace outputs. */
export interface CompiledVilt<S extends RuntimeSession = RuntimeSession> {
  readonly session: S;
  /** The first image pass's layers. */
  readonly layers: readonly PassLayer[];
  readonly imagePasses: readonly (readonly PassLayer[])[];
  /** How it was compiled: build, write, session creation, graph cache outcome. */
  readonly compiled: CompilePhases;
}

export interface OrtGraphBackendOptions {
  /** Whole-model sessions kept (each holds the model's weights). Default 4: unreduced, the model's own and two more schedules switch without recompiling. */
  readonly modelCacheSize?: number;
  /** The models' content fingerprint for graph keys (default: @pumer/onnx's, in JavaScript). */
  readonly fingerprint?: (model: ViltModel) => string;
}

/**
 * PuMer.js on an onnxruntime JS runtime. The reducers, single blocks and the whole reduced ViLT run as ONNX
 * graphs built in code; sessions are cached per graph (reducers by shape, blocks per weights and plan, whole
 * models in a ViltGraphCache), and `info()` is the runtime's report under this backend's name.
 */
export class OrtGraphBackend<S extends RuntimeSession = RuntimeSession> implements Backend {
  readonly pruner: Pruner;
  readonly merger: Merger;
  private readonly small = new Map<string, Promise<S>>();
  private readonly blocks = new WeakMap<BlockWeights, Map<string, Promise<{ s: S; trace: TraceOutputs }>>>();
  private readonly blockSessions = new Set<Promise<S>>();
  private readonly models: ViltGraphCache<Promise<CompiledVilt<S>>>;
  /** Per model object, its graphs' start-up in first-use order (first runs filled in as they happen). */
  private readonly startups = new WeakMap<
    ViltModel,
    Map<string, { -readonly [K in keyof GraphStartup]: GraphStartup[K] }>
  >();
  /** Compiles whose phases a model's record already took (later models sharing the graph got it from memory). */
  private readonly claimed = new WeakSet<CompilePhases>();
  private readonly meter: MeterSessions<S>;

  constructor(
    readonly name: string,
    protected readonly runtime: GraphRuntime<S>,
    options: OrtGraphBackendOptions = {},
  ) {
    this.models = new ViltGraphCache<Promise<CompiledVilt<S>>>(
      options.modelCacheSize ?? 4,
      (model, geometry, config) => this.compileVilt(model, geometry, config),
      (evicted) => void evicted.then((c) => c.session.release()).catch(() => undefined),
      options.fingerprint,
    );
    this.pruner = {
      saliency: (method, inputs) => this.saliency(method, inputs),
      prune: (scores, keep) => this.prune(scores, keep),
    };
    this.merger = { merge: (args) => this.merge(args) };
    this.meter = new MeterSessions<S>(
      {
        runtime,
        compile: (g, label, kind) => this.compile(g, label, kind),
        run: (s, feeds) => this.run(s, feeds),
      },
      options.modelCacheSize ?? 4,
    );
  }

  info(): BackendInfo {
    return { name: this.name, ...this.runtime.info() };
  }

  private f32(t: FloatTensor): RuntimeTensor {
    return this.runtime.tensor('float32', t.data, t.shape);
  }

  private compile(graph: GraphBuilder | Uint8Array, label: string, kind: GraphKind): Promise<S> {
    const bytes = graph instanceof Uint8Array ? graph : graph.toOnnxBytes();
    return this.runtime.createSession(bytes, label, kind);
  }

  private cachedSmall(key: string, build: () => GraphBuilder): Promise<S> {
    let hit = this.small.get(key);
    if (!hit) {
      hit = Promise.resolve().then(() => this.compile(build(), key, 'reducer'));
      hit.catch(() => this.small.delete(key));
      this.small.set(key, hit);
    }
    return hit;
  }

  private async run(s: S, feeds: RuntimeFeeds): Promise<RuntimeOutputs> {
    try {
      return await s.run(feeds);
    } catch (err) {
      throw new BackendError(`onnxruntime run failed: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
  }

  // --- Pruner ---

  private async saliency(method: Saliency, inputs: SaliencyInputs): Promise<FloatTensor> {
    const { rule, N, T, H, C } = checkSaliencyArgs(method, inputs);
    const feeds: RuntimeFeeds = { text_mask: this.f32(inputs.textMask) };
    if (rule.source === 'attention') feeds['attn'] = this.f32(inputs.attn!);
    else feeds['kbar'] = this.f32(inputs.kbar!);
    if (rule.textSide === 'queries') feeds['qbar'] = this.f32(inputs.qbar!);
    const heads = H ?? 0;
    const hd = C ?? 0;
    const s = await this.cachedSmall(`saliency|${rule.method}|${heads}|${N}|${T}|${hd}`, () =>
      buildSaliencyGraph({ rule, numHeads: heads, n: N, t: T, hd }),
    );
    const out = await this.run(s, feeds);
    return readFloat(out['scores'], 'scores');
  }

  private async prune(scores: FloatTensor, keep: number): Promise<PruneResult> {
    const c = checkPruneArgs(scores, keep);
    // No image token: nothing to rank (a graph cannot have a zero-length axis here).
    if (c.keep === 0) return { keepIdx: intTensor([], [c.B, 0]), scores: floatTensor([], [c.B, 0]) };
    const s = await this.cachedSmall(`prune|${c.I}|${c.keep}`, () => buildPruneGraph(c.I, c.keep));
    const out = await this.run(s, { scores: this.f32(scores) });
    return { keepIdx: readInt(out['keep_idx'], 'keep_idx'), scores: readFloat(out['values'], 'values') };
  }

  // --- Merger ---

  private async merge(args: MergeArgs): Promise<MergeResult> {
    const c = checkMergeArgs(args);
    const { rule, n, D, r } = c;
    const feeds: RuntimeFeeds = { x: this.f32(args.x) };
    if (rule.reads.metric) feeds['metric'] = this.f32(args.metric!);
    if (rule.reads.saliency) feeds['saliency'] = this.f32(args.saliency!);
    const withSize = rule.reads.size && args.size !== undefined && args.size !== null;
    if (withSize) feeds['size'] = this.f32(args.size!);
    const spec = { ...c, c: c.C ?? 0, d: D, withSize };
    const key = `merge|${rule.style}|${n}|${spec.c}|${D}|${r}|${c.protectFirst}|${withSize}`;
    const s = await this.cachedSmall(key, () => buildMergeGraph(spec));
    const out = await this.run(s, feeds);
    return {
      x: readFloat(out['x_out'], 'x_out'),
      size: rule.combine === 'size-weighted-mean' ? readFloat(out['size_out'], 'size_out') : null,
      dst: readInt(out['dst'], 'dst'),
      r,
    };
  }

  // --- Blocks and the whole model ---

  async runBlock(args: BlockArgs): Promise<BlockResult> {
    const { N, numHeads, textLen, layer, config } = checkBlockArgs(args);
    const { weights, x, mask } = args;
    const plan = planLayer(config, layer, textLen, N - textLen);
    let perWeights = this.blocks.get(weights);
    if (!perWeights) {
      perWeights = new Map();
      this.blocks.set(weights, perWeights);
    }
    const key = `${numHeads}|${JSON.stringify(plan)}|${scheduleKey(config)}`;
    let hit = perWeights.get(key);
    if (!hit) {
      const built = buildBlockGraph({ weights, numHeads, plan, config });
      hit = this.compile(built.graph, `block|${key}`, 'block').then((s) => ({ s, trace: built.trace }));
      const map = perWeights;
      hit.catch(() => map.delete(key));
      perWeights.set(key, hit);
      this.blockSessions.add(hit.then((h) => h.s));
    }
    const { s, trace } = await hit;
    const out = await this.run(s, { x: this.f32(x), mask: this.f32(mask) });
    return {
      x: readFloat(out['x_out'], 'x_out'),
      mask: readFloat(out['mask_out'], 'mask_out'),
      textLen: plan.textOut,
      attn: readFloat(out['attn'], 'attn'),
      trace: layerTrace(layer, plan, trace, out),
    };
  }

  private async compileVilt(
    model: ViltModel,
    geometry: ViltGraphGeometry,
    config: ReductionConfig | null,
  ): Promise<CompiledVilt<S>> {
    const key = this.models.keyOf(model, geometry, config);
    const label = `vilt|${model.id}|${key}`;
    const cached = await this.runtime.openCachedGraphSession?.(key, label);
    const layers = cached && passLayersOf(cached.about);
    if (cached && layers) {
      const { session, about: _, ...phases } = cached;
      return { session, layers: layers[0]!, imagePasses: layers, compiled: { buildGraphMs: 0, ...phases } };
    }
    if (cached) await cached.session.release();
    const started = performance.now();
    const built = buildViltGraph(model, geometry, config);
    const buildGraphMs = performance.now() - started;
    let made: { session: S } & Omit<CompilePhases, 'buildGraphMs'>;
    if (this.runtime.createGraphSession) {
      const about: ViltGraphAbout = { imagePasses: built.imagePasses };
      made = await this.runtime.createGraphSession(built.graph, key, label, about);
    } else {
      const written = performance.now();
      const bytes = built.graph.toOnnxBytes();
      const created = performance.now();
      const session = await this.compile(bytes, label, 'vilt');
      const writeGraphMs = created - written;
      made = { session, graphCache: 'off', writeGraphMs, createSessionMs: performance.now() - created };
    }
    const { session, ...phases } = made;
    const compiled = { buildGraphMs, ...phases };
    return { session, layers: built.layers, imagePasses: built.imagePasses, compiled };
  }

  /**
   * How each whole-model graph of `model` compiled so far started (build, write, session creation, graph
   * cache outcome, first run), in the order they were first used.
   */
  graphStartups(model: ViltModel): GraphStartup[] {
    return [...(this.startups.get(model)?.values() ?? [])].map((s) => ({ ...s }));
  }

  /**
   * The compiled whole-model graph for this geometry and (validated) schedule, built and cached on first use.
   * A failed compile is not kept: the cache is emptied (its other sessions released) and the error rethrown.
   */
  async viltSession(
    model: ViltModel,
    geometry: ViltGraphGeometry,
    config: ReductionConfig | null,
  ): Promise<CompiledVilt<S>> {
    // The model's content fingerprint keys its graphs; it is computed (and memoised) on first use: timed here.
    const hashed = performance.now();
    const key = this.models.keyOf(model, geometry, config);
    const hashWeightsMs = performance.now() - hashed;
    const hit = this.models.get(model, geometry, config);
    try {
      const compiled = await hit;
      this.recordStartup(model, key, config, hashWeightsMs, compiled.compiled);
      return compiled;
    } catch (err) {
      // The cache cannot drop one entry: release the others and start afresh rather than keep a failure.
      for (const other of this.models.values())
        if (other !== hit)
          void other.then(
            (c) => c.session.release(),
            () => undefined,
          );
      this.models.clear();
      throw err;
    }
  }

  /**
   * The model's record of graph `key`, made on its first use: the compile's phases if no model took them yet,
   * else 'memory' (another model object with the same content compiled it in this process).
   */
  private recordStartup(
    model: ViltModel,
    key: string,
    config: ReductionConfig | null,
    hashWeightsMs: number,
    phases: CompilePhases,
  ): void {
    let byKey = this.startups.get(model);
    if (!byKey) {
      byKey = new Map();
      this.startups.set(model, byKey);
    }
    if (byKey.has(key)) return;
    const fresh = !this.claimed.has(phases);
    this.claimed.add(phases);
    const own = fresh
      ? phases
      : { buildGraphMs: 0, writeGraphMs: 0, createSessionMs: 0, graphCache: 'memory' as const };
    byKey.set(key, { graph: key, schedule: scheduleKey(config), hashWeightsMs, ...own, firstRunMs: null });
  }

  async runVilt(model: ViltModel, inputs: ViltInputs, config: ReductionConfig | null): Promise<ViltOutputs> {
    const geometry = viltGeometryOf(model, inputs);
    const vocab = model.geometry.vocabSize;
    for (const id of inputs.inputIds.data) {
      if (id < 0 || id >= vocab)
        throw new ShapeError(`inputIds holds token id ${id}, outside the vocabulary [0, ${vocab})`);
    }
    expectFinite('pixelValues', inputs.pixelValues);
    const cfg = config ? validateReductionConfig(config, model.geometry.numLayers) : null;
    const compiled = await this.viltSession(model, geometry, cfg);
    const [b, t] = inputs.inputIds.shape as [number, number];
    const runStarted = performance.now();
    const out = await this.run(compiled.session, {
      input_ids: this.runtime.tensor('int32', inputs.inputIds.data, [b, t]),
      attention_mask: this.runtime.tensor('float32', Float32Array.from(inputs.attentionMask.data), [b, t]),
      pixel_values: this.f32(inputs.pixelValues),
      ...(geometry.imagePatches === undefined
        ? {}
        : {
            pixel_mask: this.runtime.tensor('float32', Float32Array.from(inputs.pixelMask!.data), [
              ...inputs.pixelMask!.shape,
            ]),
          }),
    });
    const record = this.startups.get(model)?.get(this.models.keyOf(model, geometry, cfg));
    if (record) record.firstRunMs ??= performance.now() - runStarted;
    const passes = compiled.imagePasses.map((layers) =>
      layers.map((l, i) => layerTrace(i, l.plan, l.trace, out)),
    );
    return {
      logits: readFloat(out['logits'], 'logits'),
      layers: passes[0]!,
      ...(passes.length > 1 ? { imagePasses: passes } : {}),
    };
  }

  // --- METER (meter-session.ts) ---

  runCoAttentionStep(args: CoAttentionStepArgs): Promise<CoAttentionStepResult> {
    return this.meter.runCoAttentionStep(args);
  }

  runMeter(model: MeterModel, inputs: MeterInputs, config: ReductionConfig | null): Promise<MeterOutputs> {
    return this.meter.runMeter(model, inputs, config);
  }

  async dispose(): Promise<void> {
    const all = [
      ...this.small.values(),
      ...this.blockSessions,
      ...this.models.values().map((p) => p.then((c) => c.session)),
      ...this.meter.sessions(),
    ];
    this.small.clear();
    this.blockSessions.clear();
    this.models.clear();
    await Promise.all(
      all.map((p) =>
        p.then(
          (s) => s.release(),
          () => undefined,
        ),
      ),
    );
  }
}
