import { type ReductionConfig, ShapeError, validateReductionConfig, type ViltModel } from '@pumer/core';
import { attr, type Dim, GraphBuilder } from './builder.js';
import { modelFingerprint } from './model-fingerprint.js';
import { layerNorm } from './nn.js';
import type { PassLayer } from './vilt/encoder.js';
import { classifierHead, rankHead, runImagePasses } from './vilt/head.js';

/**
 * What fixes a whole-model graph besides the weights: text length, patch grid, images per example and, for
 * batches of images padded to one size, the patch tokens each image pass keeps (core's
 * `checkImagePasses()[i].grids.patches`; the graph then takes `pixel_mask`). Batch stays dynamic.
 */
export interface ViltGraphGeometry {
  readonly textLen: number;
  readonly gridH: number;
  readonly gridW: number;
  /** Images per example; the model's `numImages` (the default). 2 (NLVR2): `pixel_values` [B, 2, C, H, W]. */
  readonly numImages?: number;
  /** Set: the graph reads a pixel mask; patch tokens kept per image pass (one number for every pass, or one each). */
  readonly imagePatches?: number | readonly number[];
}

export interface ViltGraph {
  readonly graph: GraphBuilder;
  readonly geometry: ViltGraphGeometry;
  readonly config: ReductionConfig | null;
  /** Per layer of the first image pass: core's plan and the names of its trace outputs. */
  readonly layers: readonly PassLayer[];
  /** Every image pass's layers (one entry per image; `layers` is the first). */
  readonly imagePasses: readonly (readonly PassLayer[])[];
}

/** Stable key of a schedule (null: unreduced), for caches. */
export function scheduleKey(config: ReductionConfig | null): string {
  if (!config) return 'unreduced';
  const c = validateReductionConfig(config);
  return [
    `L${c.reduceLayers.join('.')}`,
    `p${c.pruneRatio}`,
    `m${c.mergeRatio}`,
    `t${c.textMergeRatio}`,
    c.saliency,
    c.mergeStyle,
    `tome${c.tomeCount ?? 0}`,
    ...(c.trainingFree ? ['free'] : []),
  ].join('_');
}

/** The patch tokens image pass `i` keeps, or undefined when the graph reads no pixel mask. */
function passPatches(geometry: ViltGraphGeometry, i: number): number | undefined {
  const p = geometry.imagePatches;
  return p === undefined || typeof p === 'number' ? p : p[i];
}

const B = 'batch';

/**
 * The whole ViLT for one geometry and schedule as a single ONNX graph: text embeddings (Gather, position and
 * token type baked in, LayerNorm, modality 0), one encoder pass per image (vilt/head.ts `runImagePasses`: image
 * embedding with its modality row, every block with its reduce step inside the graph), then the model's head
 * on the pooled output(s): the classifier (VQA, VE; NLVR2 over both images' pooled outputs) or rank_output
 * (retrieval).
 * Inputs: `input_ids` int32 [B, T], `attention_mask` float32 [B, T], `pixel_values` float32 [B, C, H, W]
 * ([B, 2, C, H, W] for NLVR2) and, when `geometry.imagePatches` is set, `pixel_mask` float32 0/1 [B, H, W]
 * ([B, 2, H, W]; see vilt/embeddings.ts).
 * Outputs: `logits` [B, numLabels] ([B, 1] for rank) and, per reducing layer l, `layer{l}_saliency|keep_idx|
 * image_dst|text_dst` (pumer) or `layer{l}_token_dst` (tome), matching core's LayerTrace; NLVR2 names them
 * `image1_layer{l}_*` and `image2_layer{l}_*`.
 */
export function buildViltGraph(
  model: ViltModel,
  geometry: ViltGraphGeometry,
  config: ReductionConfig | null,
): ViltGraph {
  const geo = model.geometry;
  const w = model.weights;
  const { textLen: t, gridH, gridW } = geometry;
  const numImages = geometry.numImages ?? geo.numImages;
  if (numImages !== geo.numImages) {
    throw new ShapeError(`the model takes ${geo.numImages} image(s) per example, the geometry ${numImages}`);
  }
  if (!Number.isInteger(t) || t < 1 || t > geo.maxTextLength) {
    throw new ShapeError(
      `text length ${t} must be an integer in [1, ${geo.maxTextLength}] (max_position_embeddings)`,
    );
  }
  if (!Number.isInteger(gridH) || !Number.isInteger(gridW) || gridH < 1 || gridW < 1) {
    throw new ShapeError(`patch grid must be positive integers, got ${gridH}x${gridW}`);
  }
  const types = w.modalityEmbeddings.shape[0];
  if (types < numImages + 1) {
    throw new ShapeError(
      `${numImages} image(s) per example need ${numImages + 1} modality embedding rows, the model has ${types}`,
    );
  }
  const padded = geometry.imagePatches !== undefined;
  if (Array.isArray(geometry.imagePatches) && geometry.imagePatches.length !== numImages) {
    throw new ShapeError(
      `imagePatches gives ${geometry.imagePatches.length} counts for ${numImages} image(s) per example`,
    );
  }
  for (let i = 0; i < numImages; i++) {
    const kept = passPatches(geometry, i);
    if (kept !== undefined && !(Number.isInteger(kept) && kept >= 1 && kept <= gridH * gridW)) {
      throw new ShapeError(`image patches kept must be an integer in [1, ${gridH * gridW}], got ${kept}`);
    }
  }
  const cfg = config ? validateReductionConfig(config, geo.numLayers) : null;
  const d = geo.hiddenSize;
  const p = geo.patchSize;
  const g = new GraphBuilder('pumer_vilt');

  const perImage = (dims: readonly Dim[]): Dim[] =>
    numImages === 1 ? [B, ...dims] : [B, numImages, ...dims];
  const inputIds = g.input('input_ids', 'int32', [B, t]);
  const attentionMask = g.input('attention_mask', 'float32', [B, t]);
  const pixels = g.input('pixel_values', 'float32', perImage([geo.numChannels, gridH * p, gridW * p]));
  const pixelMask = padded ? g.input('pixel_mask', 'float32', perImage([gridH * p, gridW * p])) : null;

  // Text: word + position + token type 0, LayerNorm, then modality 0 (the same for every image pass).
  const textConst = new Float32Array(t * d);
  for (let i = 0; i < t; i++) {
    for (let k = 0; k < d; k++) {
      textConst[i * d + k] = w.textPositionEmbeddings.data[i * d + k] + w.textTokenTypeEmbeddings.data[k];
    }
  }
  const words = g.op(
    'Gather',
    [g.initializer('word_embeddings', 'float32', [geo.vocabSize, d], w.wordEmbeddings.data), inputIds],
    {
      axis: attr.int(0),
    },
  ); // [B, T, D]
  const textEmb = layerNorm(
    g,
    g.add(words, g.initializer('text_pos_type', 'float32', [t, d], textConst)),
    w.textNorm,
    'text_norm',
  );
  const text = g.add(textEmb, g.floats(w.modalityEmbeddings.data.subarray(0, d), [d]));

  // Image i of every example: [B, C, H, W] (and its mask [B, H, W]) out of the per-image inputs.
  const imageOf = (v: string, i: number) => (numImages === 1 ? v : g.squeeze(g.slice(v, 1, i, i + 1), [1]));
  const passes = runImagePasses(g, model, {
    text,
    attentionMask,
    textLen: t,
    images: Array.from({ length: numImages }, (_, i) => {
      const kept = passPatches(geometry, i);
      return {
        pixels: imageOf(pixels, i),
        pixelMask: pixelMask === null ? null : imageOf(pixelMask, i),
        grid: { gridH, gridW, ...(kept === undefined ? {} : { imagePatches: kept }) },
      };
    }),
    config: cfg,
  });

  // The head reads the pooled outputs side by side in image order (NLVR2: [B, 2D]).
  const pooled = g.concat(
    passes.map((p) => p.pooled),
    1,
  );
  const head = w.head;
  const logits = head.kind === 'rank' ? rankHead(g, head, pooled) : classifierHead(g, head, pooled);
  const outputs = head.kind === 'rank' ? 1 : head.fc2.weight.shape[0];
  g.output(logits, 'logits', 'float32', [B, outputs]);
  const imagePasses = passes.map((p) => p.layers);
  return { graph: g, geometry, config: cfg, layers: imagePasses[0]!, imagePasses };
}

/**
 * Whole-model graphs keyed by (model content, geometry, schedule): the model's content fingerprint (geometry,
 * labels, every weight's bytes; see model-fingerprint.ts), never its id alone, which two different models can
 * share. Holds at most `capacity` entries (a ViLT-B graph
 * carries ~450 MB of weights), dropping the least recently used.
 */
export class ViltGraphCache<T = ViltGraph> {
  private readonly entries = new Map<string, T>();
  constructor(
    private readonly capacity = 4,
    private readonly make: (
      model: ViltModel,
      geometry: ViltGraphGeometry,
      config: ReductionConfig | null,
    ) => T = (m, g, c) => buildViltGraph(m, g, c) as T,
    /** Called with each entry dropped to make room (e.g. to release its session). */
    private readonly onEvict: (value: T) => void = () => {},
    /** The model's content fingerprint (a Node backend passes a native hash of the same content). */
    private readonly fingerprint: (model: ViltModel) => string = modelFingerprint,
  ) {}

  static key(
    model: ViltModel,
    geometry: ViltGraphGeometry,
    config: ReductionConfig | null,
    fingerprint: (model: ViltModel) => string = modelFingerprint,
  ): string {
    const kept = geometry.imagePatches;
    const padded = kept === undefined ? '' : `|P${typeof kept === 'number' ? kept : kept.join(',')}`;
    const images = `I${geometry.numImages ?? model.geometry.numImages}`;
    // The fingerprint covers the head's weights and kind too; the task (which fixes the head's kind) is named
    // here so a key says which graph it is (read from the model, not its weights: a lazily loaded model's
    // weights stay unread when an on-disk graph cache holds the graph).
    return `${fingerprint(model)}|${model.task}|${images}|T${geometry.textLen}|${geometry.gridH}x${geometry.gridW}${padded}|${scheduleKey(config)}`;
  }

  /** This cache's key of a graph (see `key`, with this cache's fingerprint). */
  keyOf(model: ViltModel, geometry: ViltGraphGeometry, config: ReductionConfig | null): string {
    return ViltGraphCache.key(model, geometry, config, this.fingerprint);
  }

  get(model: ViltModel, geometry: ViltGraphGeometry, config: ReductionConfig | null): T {
    const key = this.keyOf(model, geometry, config);
    let hit = this.entries.get(key);
    if (hit === undefined) {
      hit = this.make(model, geometry, config);
      while (this.entries.size >= this.capacity) {
        const oldest = this.entries.keys().next().value!;
        this.onEvict(this.entries.get(oldest)!);
        this.entries.delete(oldest);
      }
    } else {
      this.entries.delete(key);
    }
    this.entries.set(key, hit);
    return hit;
  }

  get size(): number {
    return this.entries.size;
  }

  values(): T[] {
    return [...this.entries.values()];
  }

  clear(): void {
    this.entries.clear();
  }
}
