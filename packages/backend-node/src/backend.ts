import { availableParallelism } from 'node:os';
import {
  type Backend,
  BackendError,
  type BackendInfo,
  type BlockArgs,
  type BlockResult,
  type BlockWeights,
  expectFinite,
  expectShape,
  type FloatTensor,
  floatTensor,
  type IntTensor,
  intTensor,
  type LayerPlan,
  type LayerTrace,
  type MergeArgs,
  type MergeResult,
  MERGE_STYLES,
  type Merger,
  planLayer,
  type PruneResult,
  type Pruner,
  type ReductionConfig,
  SALIENCY_METHODS,
  type Saliency,
  type SaliencyInputs,
  ShapeError,
  validateReductionConfig,
  type ViltInputs,
  type ViltModel,
  type ViltOutputs,
} from '@pumer/core';
import {
  buildBlockGraph,
  buildMergeGraph,
  buildPruneGraph,
  buildSaliencyGraph,
  buildViltGraph,
  clampedMergeR,
  type GraphBuilder,
  scheduleKey,
  type TraceOutputs,
  ViltGraphCache,
  type ViltGraphGeometry,
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

type Feeds = Record<string, ort.Tensor>;

/** A compiled graph: its session and nothing else (outputs are read by name). */
interface Compiled {
  readonly session: ort.InferenceSession;
}

function f32(t: FloatTensor): ort.Tensor {
  return new ort.Tensor('float32', t.data, [...t.shape]);
}

function readFloat(t: ort.Tensor | undefined, name: string): FloatTensor {
  if (t?.type !== 'float32') throw new BackendError(`onnxruntime returned no float32 output "${name}"`);
  return floatTensor(t.data as Float32Array, t.dims.map(Number));
}

function readInt(t: ort.Tensor | undefined, name: string): IntTensor {
  if (t?.type !== 'int32') throw new BackendError(`onnxruntime returned no int32 output "${name}"`);
  return intTensor(t.data as Int32Array, t.dims.map(Number));
}

/** A layer's trace from its plan and the graph outputs that carry it. */
function layerTrace(
  layer: number,
  plan: LayerPlan,
  names: TraceOutputs,
  out: ort.InferenceSession.OnnxValueMapType,
): LayerTrace {
  const base = {
    layer,
    kind: plan.kind,
    textIn: plan.textIn,
    imageIn: plan.imageIn,
    textOut: plan.textOut,
    imageOut: plan.imageOut,
  } as const;
  if (plan.kind === 'pumer') {
    return {
      ...base,
      imageSaliency: readFloat(out[names.saliency!], names.saliency!),
      keepIdx: readInt(out[names.keepIdx!], names.keepIdx!),
      imageDst: readInt(out[names.imageDst!], names.imageDst!),
      textDst: readInt(out[names.textDst!], names.textDst!),
    };
  }
  if (plan.kind === 'tome') return { ...base, tokenDst: readInt(out[names.tokenDst!], names.tokenDst!) };
  return base;
}

function noPlan(textIn: number, imageIn: number): LayerPlan {
  return { kind: 'none', textIn, imageIn, textOut: textIn, imageOut: imageIn };
}

function planKey(plan: LayerPlan): string {
  return JSON.stringify(plan);
}

interface CompiledVilt extends Compiled {
  readonly layers: readonly { readonly plan: LayerPlan; readonly trace: TraceOutputs }[];
}

/**
 * PuMer.js on onnxruntime-node. The reducers, single blocks and the whole reduced ViLT run as ONNX graphs
 * built in code by @pumer/onnx; sessions are cached per graph.
 */
export class NodeBackend implements Backend {
  readonly name = 'node';
  readonly pruner: Pruner;
  readonly merger: Merger;
  private readonly choice: ProviderChoice;
  private readonly threads: number;
  private readonly profilePrefix: string | undefined;
  private readonly spinWait: boolean;
  private readonly small = new Map<string, Promise<Compiled>>();
  private readonly blocks = new WeakMap<
    BlockWeights,
    Map<string, Promise<{ c: Compiled; trace: TraceOutputs }>>
  >();
  private readonly models: ViltGraphCache<Promise<CompiledVilt>>;
  private readonly live = new Set<Promise<Compiled>>();

  constructor(choice: ProviderChoice, options: NodeBackendOptions = {}) {
    this.choice = choice;
    this.threads = options.threads ?? availableParallelism();
    this.profilePrefix = options.profilePrefix;
    this.spinWait = options.spinWait ?? false;
    this.models = new ViltGraphCache<Promise<CompiledVilt>>(
      options.modelCacheSize ?? 2,
      (model, geometry, config) => this.compileVilt(model, geometry, config),
      (evicted) => void evicted.then((c) => c.session.release()).catch(() => undefined),
    );
    this.pruner = {
      saliency: (method, inputs) => this.saliency(method, inputs),
      prune: (scores, keep) => this.prune(scores, keep),
    };
    this.merger = { merge: (args) => this.merge(args) };
  }

  info(): BackendInfo {
    return {
      name: this.name,
      provider: this.choice.provider,
      ...(this.choice.requested !== this.choice.provider ? { requested: this.choice.requested } : {}),
      ...(this.choice.fallbackReason ? { fallbackReason: this.choice.fallbackReason } : {}),
    };
  }

  /** The provider sessions run on. */
  get provider(): Provider {
    return this.choice.provider;
  }

  /** Session options: full graph optimisation, all cores, the chosen provider. */
  sessionOptions(profile = false): ort.InferenceSession.SessionOptions {
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

  private async compile(graph: GraphBuilder | Uint8Array, profile = false): Promise<Compiled> {
    const bytes = graph instanceof Uint8Array ? graph : graph.toOnnxBytes();
    try {
      return { session: await ort.InferenceSession.create(bytes, this.sessionOptions(profile)) };
    } catch (err) {
      throw new BackendError(
        `onnxruntime could not load a PuMer graph: ${err instanceof Error ? err.message : String(err)}`,
        {
          cause: err,
        },
      );
    }
  }

  private cachedSmall(key: string, build: () => GraphBuilder): Promise<Compiled> {
    let hit = this.small.get(key);
    if (!hit) {
      hit = Promise.resolve().then(() => this.compile(build()));
      hit.catch(() => this.small.delete(key));
      this.small.set(key, hit);
    }
    return hit;
  }

  private async run(c: Compiled, feeds: Feeds): Promise<ort.InferenceSession.OnnxValueMapType> {
    try {
      return await c.session.run(feeds);
    } catch (err) {
      throw new BackendError(`onnxruntime run failed: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
  }

  // --- Pruner ---

  private async saliency(method: Saliency, inputs: SaliencyInputs): Promise<FloatTensor> {
    if (!(SALIENCY_METHODS as readonly string[]).includes(method)) {
      throw new BackendError(
        `unknown saliency method "${String(method)}" (expected ${SALIENCY_METHODS.join(', ')})`,
      );
    }
    expectShape('textMask', inputs.textMask, [null, null]);
    const [b, t] = inputs.textMask.shape;
    const feeds: Feeds = { text_mask: f32(inputs.textMask) };
    let n: number;
    let heads = 0;
    let hd = 0;
    if (method === 'first_head' || method === 'mean_head') {
      if (!inputs.attn) throw new ShapeError(`saliency ${method} needs attn [B, H, N, N]`);
      expectShape('attn', inputs.attn, [b, null, null, null]);
      [, heads, n] = inputs.attn.shape;
      expectShape('attn', inputs.attn, [b, heads, n, n]);
      feeds['attn'] = f32(inputs.attn);
    } else {
      if (!inputs.kbar) throw new ShapeError(`saliency ${method} needs kbar [B, N, headDim]`);
      expectShape('kbar', inputs.kbar, [b, null, null]);
      [, n, hd] = inputs.kbar.shape;
      feeds['kbar'] = f32(inputs.kbar);
      if (method === 'qk') {
        if (!inputs.qbar) throw new ShapeError('saliency qk needs qbar [B, N, headDim]');
        expectShape('qbar', inputs.qbar, [b, n, hd]);
        feeds['qbar'] = f32(inputs.qbar);
      }
    }
    if (t < 1 || t >= n)
      throw new ShapeError(`textMask has ${t} columns; it must be in [1, ${n - 1}] for ${n} tokens`);
    const c = await this.cachedSmall(`sal|${method}|${heads}|${n}|${t}|${hd}`, () =>
      buildSaliencyGraph({ method, numHeads: heads, n, t, hd }),
    );
    const out = await this.run(c, feeds);
    return readFloat(out['scores'], 'scores');
  }

  private async prune(scores: FloatTensor, keep: number): Promise<PruneResult> {
    expectShape('scores', scores, [null, null]);
    expectFinite('scores', scores);
    const n = scores.shape[1];
    if (!Number.isInteger(keep) || keep < 1 || keep > n) {
      throw new ShapeError(`prune: keep must be an integer in [1, ${n}], got ${keep}`);
    }
    const c = await this.cachedSmall(`prune|${n}|${keep}`, () => buildPruneGraph(n, keep));
    const out = await this.run(c, { scores: f32(scores) });
    return { keepIdx: readInt(out['keep_idx'], 'keep_idx'), scores: readFloat(out['values'], 'values') };
  }

  // --- Merger ---

  private async merge(args: MergeArgs): Promise<MergeResult> {
    const { style, x } = args;
    if (!(MERGE_STYLES as readonly string[]).includes(style)) {
      throw new BackendError(`unknown merge style "${String(style)}" (expected ${MERGE_STYLES.join(', ')})`);
    }
    if (typeof args.r !== 'number' || !Number.isInteger(args.r) || args.r < 0) {
      throw new ShapeError(`merge: r must be a non-negative integer, got ${String(args.r)}`);
    }
    expectShape('x', x, [null, null, null]);
    expectFinite('x', x);
    const [b, n, d] = x.shape;
    const feeds: Feeds = { x: f32(x) };
    let c = 0;
    if (style !== 'diff') {
      if (!args.metric) throw new ShapeError(`merge ${style} needs metric [B, n, C]`);
      expectShape('metric', args.metric, [b, n, null]);
      expectFinite('metric', args.metric);
      c = args.metric.shape[2];
      feeds['metric'] = f32(args.metric);
    }
    if (style !== 'tome') {
      if (!args.saliency) throw new ShapeError(`merge ${style} needs saliency [B, n]`);
      expectShape('saliency', args.saliency, [b, n]);
      expectFinite('saliency', args.saliency);
      feeds['saliency'] = f32(args.saliency);
    }
    const withSize = style === 'tome' && args.size !== undefined;
    if (withSize) {
      expectShape('size', args.size!, [b, n, 1]);
      feeds['size'] = f32(args.size!);
    }
    const protectFirst = args.protectFirst ?? true;
    const spec = { style, n, c, d, r: args.r, protectFirst, withSize };
    const r = clampedMergeR(spec);
    const compiled = await this.cachedSmall(
      `merge|${style}|${n}|${c}|${d}|${r}|${protectFirst}|${withSize}`,
      () => buildMergeGraph({ ...spec, r }),
    );
    const out = await this.run(compiled, feeds);
    return {
      x: readFloat(out['x_out'], 'x_out'),
      size: style === 'tome' ? readFloat(out['size_out'], 'size_out') : null,
      dst: readInt(out['dst'], 'dst'),
      r,
    };
  }

  // --- Blocks and the whole model ---

  async runBlock(args: BlockArgs): Promise<BlockResult> {
    const { weights, numHeads, x, mask, textLen } = args;
    expectShape('x', x, [null, null, null]);
    const [b, n, d] = x.shape;
    expectShape('mask', mask, [b, n]);
    expectShape('norm1.weight', weights.norm1.weight, [d]);
    if (!Number.isInteger(numHeads) || numHeads < 1 || d % numHeads !== 0) {
      throw new ShapeError(`numHeads ${numHeads} must divide the hidden size ${d}`);
    }
    if (!Number.isInteger(textLen) || textLen < 1 || textLen >= n) {
      throw new ShapeError(`textLen ${textLen} must be an integer in [1, ${n - 1}]`);
    }
    const config = args.config ? validateReductionConfig(args.config) : null;
    const plan = config ? planLayer(config, args.layer, textLen, n - textLen) : noPlan(textLen, n - textLen);
    let perWeights = this.blocks.get(weights);
    if (!perWeights) {
      perWeights = new Map();
      this.blocks.set(weights, perWeights);
    }
    const key = `${numHeads}|${planKey(plan)}|${scheduleKey(config)}`;
    let hit = perWeights.get(key);
    if (!hit) {
      const built = buildBlockGraph({ weights, numHeads, plan, config });
      hit = this.compile(built.graph).then((c) => ({ c, trace: built.trace }));
      hit.catch(() => perWeights.delete(key));
      perWeights.set(key, hit);
      this.live.add(hit.then((h) => h.c));
    }
    const { c, trace } = await hit;
    const out = await this.run(c, { x: f32(x), mask: f32(mask) });
    return {
      x: readFloat(out['x_out'], 'x_out'),
      mask: readFloat(out['mask_out'], 'mask_out'),
      textLen: plan.textOut,
      attn: readFloat(out['attn'], 'attn'),
      trace: layerTrace(args.layer, plan, trace, out),
    };
  }

  private async compileVilt(
    model: ViltModel,
    geometry: ViltGraphGeometry,
    config: ReductionConfig | null,
  ): Promise<CompiledVilt> {
    const built = buildViltGraph(model, geometry, config);
    const c = await this.compile(built.graph.toOnnxBytes(), true);
    return { ...c, layers: built.layers };
  }

  /** The geometry `inputs` imply for `model` (text length, patch grid), after checking every shape. */
  static geometryOf(model: ViltModel, inputs: ViltInputs): ViltGraphGeometry {
    const geo = model.geometry;
    expectShape('inputIds', inputs.inputIds, [null, null]);
    const [b, t] = inputs.inputIds.shape;
    expectShape('attentionMask', inputs.attentionMask, [b, t]);
    expectShape('pixelValues', inputs.pixelValues, [b, geo.numChannels, null, null]);
    const [, , h, w] = inputs.pixelValues.shape;
    const p = geo.patchSize;
    if (h % p !== 0 || w % p !== 0 || h === 0 || w === 0) {
      throw new ShapeError(
        `pixelValues is ${h}x${w}; both sides must be positive multiples of the patch size ${p}`,
      );
    }
    if (t < 1 || t > geo.maxTextLength)
      throw new ShapeError(`text length ${t} must be in [1, ${geo.maxTextLength}]`);
    return { textLen: t, gridH: h / p, gridW: w / p };
  }

  /** The compiled whole-model graph for these inputs' geometry (built and cached on first use). */
  async viltSession(
    model: ViltModel,
    geometry: ViltGraphGeometry,
    config: ReductionConfig | null,
  ): Promise<CompiledVilt> {
    return this.models.get(model, geometry, config);
  }

  async runVilt(model: ViltModel, inputs: ViltInputs, config: ReductionConfig | null): Promise<ViltOutputs> {
    const geometry = NodeBackend.geometryOf(model, inputs);
    const vocab = model.geometry.vocabSize;
    for (const id of inputs.inputIds.data) {
      if (id < 0 || id >= vocab)
        throw new ShapeError(`inputIds holds token id ${id}, outside the vocabulary [0, ${vocab})`);
    }
    expectFinite('pixelValues', inputs.pixelValues);
    const cfg = config ? validateReductionConfig(config, model.geometry.numLayers) : null;
    const compiled = await this.viltSession(model, geometry, cfg);
    const [b, t] = inputs.inputIds.shape;
    const out = await this.run(compiled, {
      input_ids: new ort.Tensor('int32', inputs.inputIds.data, [b, t]),
      attention_mask: new ort.Tensor('float32', Float32Array.from(inputs.attentionMask.data), [b, t]),
      pixel_values: f32(inputs.pixelValues),
    });
    return {
      logits: readFloat(out['logits'], 'logits'),
      layers: compiled.layers.map((l, i) => layerTrace(i, l.plan, l.trace, out)),
    };
  }

  async dispose(): Promise<void> {
    const all = [...this.small.values(), ...this.live, ...this.models.values()];
    this.small.clear();
    this.live.clear();
    this.models.clear();
    await Promise.all(
      all.map((p) =>
        p.then(
          (c) => c.session.release(),
          () => undefined,
        ),
      ),
    );
  }
}

/** Creates the node backend, resolving the execution provider first (see NodeBackendOptions.provider). */
export async function createNodeBackend(options: NodeBackendOptions = {}): Promise<NodeBackend> {
  const choice = await chooseProvider(options.provider ?? 'auto');
  return new NodeBackend(choice, options);
}
