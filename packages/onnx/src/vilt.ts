import {
  type LayerPlan,
  planLayer,
  type ReductionConfig,
  ShapeError,
  validateReductionConfig,
  type ViltModel,
} from '@pumer/core';
import { transformerBlock } from './block.js';
import { modelFingerprint } from './model-fingerprint.js';
import { attr, GraphBuilder } from './builder.js';
import { gelu, layerNorm, linear, maskHat } from './nn.js';
import { emitTrace, type TraceOutputs } from './standalone.js';
import { embedImage, type ImageGrid } from './vilt/embeddings.js';

/**
 * What fixes a whole-model graph besides the weights: text length, patch grid and, for batches of images
 * padded to one size, the patch tokens kept per image (core's `checkImageGrids().patches`; the graph then
 * takes `pixel_mask`). Batch stays dynamic.
 */
export interface ViltGraphGeometry extends ImageGrid {
  readonly textLen: number;
}

export interface ViltGraph {
  readonly graph: GraphBuilder;
  readonly geometry: ViltGraphGeometry;
  readonly config: ReductionConfig | null;
  /** Per layer: core's plan and the names of its trace outputs. */
  readonly layers: readonly { readonly plan: LayerPlan; readonly trace: TraceOutputs }[];
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
  ].join('_');
}

const B = 'batch';

/**
 * The whole ViLT for one geometry and schedule as a single ONNX graph: embeddings (Gather, Conv patch
 * projection, [CLS], position embeddings interpolated for the grid and baked in, modality embeddings, text
 * LayerNorm), every block with its reduce step inside the graph, final LayerNorm, pooler and VQA classifier.
 * Inputs: `input_ids` int32 [B, T], `attention_mask` float32 [B, T], `pixel_values` float32 [B, C, H, W] and,
 * when `geometry.imagePatches` is set, `pixel_mask` float32 0/1 [B, H, W] (see vilt/embeddings.ts).
 * Outputs: `logits` [B, labels] and, per reducing layer l, `layer{l}_saliency|keep_idx|image_dst|text_dst`
 * (pumer) or `layer{l}_token_dst` (tome), matching core's LayerTrace.
 */
export function buildViltGraph(
  model: ViltModel,
  geometry: ViltGraphGeometry,
  config: ReductionConfig | null,
): ViltGraph {
  const geo = model.geometry;
  const w = model.weights;
  const { textLen: t, gridH, gridW } = geometry;
  if (!Number.isInteger(t) || t < 1 || t > geo.maxTextLength) {
    throw new ShapeError(
      `text length ${t} must be an integer in [1, ${geo.maxTextLength}] (max_position_embeddings)`,
    );
  }
  if (!Number.isInteger(gridH) || !Number.isInteger(gridW) || gridH < 1 || gridW < 1) {
    throw new ShapeError(`patch grid must be positive integers, got ${gridH}x${gridW}`);
  }
  const kept = geometry.imagePatches;
  if (kept !== undefined && !(Number.isInteger(kept) && kept >= 1 && kept <= gridH * gridW)) {
    throw new ShapeError(`image patches kept must be an integer in [1, ${gridH * gridW}], got ${kept}`);
  }
  const cfg = config ? validateReductionConfig(config, geo.numLayers) : null;
  const d = geo.hiddenSize;
  const p = geo.patchSize;
  const g = new GraphBuilder('pumer_vilt');

  const inputIds = g.input('input_ids', 'int32', [B, t]);
  const attentionMask = g.input('attention_mask', 'float32', [B, t]);
  const pixels = g.input('pixel_values', 'float32', [B, geo.numChannels, gridH * p, gridW * p]);
  const pixelMask =
    geometry.imagePatches === undefined ? null : g.input('pixel_mask', 'float32', [B, gridH * p, gridW * p]);

  // Text: word + position + token type 0, LayerNorm, then modality 0.
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

  // Image: [CLS] then the patches (every image's valid ones, then masked padding, with a pixel mask).
  const { x: image, mask: imageMask, tokens: imageLen } = embedImage(g, model, geometry, pixels, pixelMask);

  let x = g.concat([text, image], 1); // [B, N, D]
  let mask = imageMask ? g.concat([attentionMask, imageMask], 1) : g.pad(attentionMask, 2, 1, 0, imageLen, 1); // image part all ones
  let hat = maskHat(g, mask, t + imageLen);
  const layers: { plan: LayerPlan; trace: TraceOutputs }[] = [];
  let textIn = t;
  let imageIn = imageLen;
  for (let l = 0; l < geo.numLayers; l++) {
    const plan: LayerPlan = cfg
      ? planLayer(cfg, l, textIn, imageIn)
      : { kind: 'none', textIn, imageIn, textOut: textIn, imageOut: imageIn };
    const out = g.within(`layer${l}`, () =>
      transformerBlock(g, { x, mask, maskHat: hat }, w.layers[l], geo.numHeads, plan, cfg, `layer${l}`),
    );
    x = out.x;
    mask = out.mask;
    hat = out.maskHat;
    layers.push({ plan, trace: emitTrace(g, out.trace, plan, `layer${l}_`) });
    textIn = plan.textOut;
    imageIn = plan.imageOut;
  }

  // Head: final LayerNorm of the text [CLS] row, pooler (tanh), classifier fc1 -> LayerNorm -> GELU -> fc2.
  const cls = g.reshape(layerNorm(g, g.slice(x, 1, 0, 1), w.finalNorm, 'final_norm'), [0, d]);
  const pooled = g.op('Tanh', [linear(g, cls, w.pooler, 'pooler', true)]);
  const hidden = gelu(
    g,
    layerNorm(
      g,
      linear(g, pooled, w.classifier.fc1, 'classifier.fc1', true),
      w.classifier.norm,
      'classifier.norm',
    ),
  );
  g.output(linear(g, hidden, w.classifier.fc2, 'classifier.fc2', true), 'logits', 'float32', [
    B,
    geo.numLabels,
  ]);
  return { graph: g, geometry, config: cfg, layers };
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
  ) {}

  static key(model: ViltModel, geometry: ViltGraphGeometry, config: ReductionConfig | null): string {
    const padded = geometry.imagePatches === undefined ? '' : `|P${geometry.imagePatches}`;
    return `${modelFingerprint(model)}|T${geometry.textLen}|${geometry.gridH}x${geometry.gridW}${padded}|${scheduleKey(config)}`;
  }

  get(model: ViltModel, geometry: ViltGraphGeometry, config: ReductionConfig | null): T {
    const key = ViltGraphCache.key(model, geometry, config);
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
