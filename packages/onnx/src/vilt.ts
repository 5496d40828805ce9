import {
  interpolatePositionEmbeddings,
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

/** What fixes a whole-model graph besides the weights: text length and patch grid. Batch stays dynamic. */
export interface ViltGraphGeometry {
  readonly textLen: number;
  readonly gridH: number;
  readonly gridW: number;
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
 * Inputs: `input_ids` int32 [B, T], `attention_mask` float32 [B, T], `pixel_values` float32 [B, C, H, W].
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
  const cfg = config ? validateReductionConfig(config, geo.numLayers) : null;
  const d = geo.hiddenSize;
  const p = geo.patchSize;
  const patches = gridH * gridW;
  const imageLen = 1 + patches;
  const g = new GraphBuilder('pumer_vilt');

  const inputIds = g.input('input_ids', 'int32', [B, t]);
  const attentionMask = g.input('attention_mask', 'float32', [B, t]);
  const pixels = g.input('pixel_values', 'float32', [B, geo.numChannels, gridH * p, gridW * p]);

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

  // Image: Conv patch projection, then [CLS] (a zero row padded in front) plus position + modality 1.
  const conv = g.op(
    'Conv',
    [
      pixels,
      g.initializer(
        'patch.weight',
        'float32',
        [...w.patchProjection.weight.shape],
        w.patchProjection.weight.data,
      ),
      ...(w.patchProjection.bias
        ? [g.initializer('patch.bias', 'float32', [d], w.patchProjection.bias.data)]
        : []),
    ],
    { kernel_shape: attr.ints([p, p]), strides: attr.ints([p, p]) },
  ); // [B, D, h, w]
  const patchRows = g.transpose(g.reshape(conv, [0, d, patches]), [0, 2, 1]); // [B, h*w, D]
  const pos = interpolatePositionEmbeddings(w.imagePositionEmbeddings, gridH, gridW).data; // [1 + h*w, D]
  const imageConst = new Float32Array(imageLen * d);
  for (let i = 0; i < imageLen; i++) {
    for (let k = 0; k < d; k++) {
      imageConst[i * d + k] =
        pos[i * d + k] + w.modalityEmbeddings.data[d + k] + (i === 0 ? w.clsToken.data[k] : 0);
    }
  }
  const image = g.add(
    g.pad(patchRows, 3, 1, 1, 0, 0),
    g.initializer('image_pos_cls_type', 'float32', [imageLen, d], imageConst),
  );

  let x = g.concat([text, image], 1); // [B, N, D]
  let mask = g.pad(attentionMask, 2, 1, 0, imageLen, 1); // image part all ones
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
    return `${modelFingerprint(model)}|T${geometry.textLen}|${geometry.gridH}x${geometry.gridW}|${scheduleKey(config)}`;
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
