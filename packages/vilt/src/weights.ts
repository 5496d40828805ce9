import { type FloatTensor, floatTensor, PumerError, type ViltTask, type ViltWeights } from '@pumer/core';
import type { ViltConfig } from './config.js';
import { type CheckpointTensor, isFloatTensor } from './checkpoint/tensors.js';
import { headWeights } from './heads.js';

/**
 * Maps Hugging Face ViLT parameter names onto core's ViltWeights, checking every
 * tensor's shape against config.json. A tensor the model does not read is an error (a config.json that
 * undercounts the layers would otherwise drop layers silently), except the buffers checkpoints carry (the
 * int64 `position_ids`). The PuMer authors' layout has its own mapping (layouts/authors.ts) built from the
 * same pieces.
 */

/** Buffers Hugging Face checkpoints carry that are not weights (transformers <4.31 saved `position_ids`). */
export const HF_IGNORED_TENSORS: readonly RegExp[] = [/^vilt\.embeddings\.text_embeddings\.position_ids$/];

/** How many unused tensor names an error lists before it says how many more there are. */
const UNUSED_NAMES_SHOWN = 6;

/** Named tensors of one checkpoint, handed out with their shapes checked. */
export class TensorSource {
  /** Names handed out by get(), for checkAllUsed(). */
  private readonly used = new Set<string>();

  constructor(
    private readonly tensors: ReadonlyMap<string, CheckpointTensor>,
    private readonly source: string,
  ) {}

  /** The stored shape of `name`, for a size config.json does not give (the authors' MLP width). */
  shapeOf(name: string, what: string): readonly number[] {
    const t = this.tensors.get(name);
    if (!t) throw new PumerError('CHECKPOINT', `${this.source}: missing tensor "${name}" (it gives ${what})`);
    return t.shape;
  }

  /** The tensor `name` with exactly `shape`, returned as `viewShape` (same element count). */
  get(name: string, shape: readonly number[], viewShape: readonly number[] = shape): FloatTensor {
    const t = this.tensors.get(name);
    if (!t)
      throw new PumerError(
        'CHECKPOINT',
        `${this.source}: missing tensor "${name}" (expected shape [${shape.join(', ')}])`,
      );
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new PumerError(
        'CHECKPOINT',
        `${this.source}: tensor "${name}" has shape [${t.shape.join(', ')}], but config.json implies [${shape.join(', ')}]`,
      );
    }
    if (!isFloatTensor(t)) {
      throw new PumerError(
        'CHECKPOINT',
        `${this.source}: tensor "${name}" has dtype ${t.dtype}, but a floating-point weight is expected`,
      );
    }
    this.used.add(name);
    return floatTensor(t.data, viewShape);
  }

  /**
   * Throws a CHECKPOINT error naming the tensors no get() has read, other than those matching `ignored`
   * (buffers, training-only heads). `depthField` names config.json's layer count, for the hint when the
   * unused tensors are whole layers.
   */
  checkAllUsed(ignored: readonly RegExp[], numLayers: number, depthField: string): void {
    const unused = [...this.tensors.keys()].filter(
      (n) => !this.used.has(n) && !ignored.some((p) => p.test(n)),
    );
    if (unused.length === 0) return;
    const shown = unused.slice(0, UNUSED_NAMES_SHOWN).map((n) => `"${n}"`);
    const more = unused.length > UNUSED_NAMES_SHOWN ? `, ... (${unused.length} in all)` : '';
    // Layer tensors beyond the configured depth: config.json undercounts the layers.
    const layers = unused.map((n) => /\.(?:layer|blocks)\.(\d+)\./.exec(n)).filter((m) => m !== null);
    const deepest = Math.max(-1, ...layers.map((m) => Number(m[1])));
    const hint =
      deepest >= numLayers
        ? `: the weights hold layers up to ${deepest}, but config.json "${depthField}" is ${numLayers}`
        : '';
    throw new PumerError(
      'CHECKPOINT',
      `${this.source}: ${unused.length} tensor(s) the model does not use${hint} (${shown.join(', ')}${more})`,
    );
  }

  /** Weight [out, in] and bias [out] of a Linear layer. */
  linear(prefix: string, out: number, inDim: number, bias = true) {
    return {
      weight: this.get(`${prefix}.weight`, [out, inDim]),
      bias: bias ? this.get(`${prefix}.bias`, [out]) : null,
    };
  }

  norm(prefix: string, dim: number, eps: number) {
    return { weight: this.get(`${prefix}.weight`, [dim]), bias: this.get(`${prefix}.bias`, [dim]), eps };
  }
}

/** Everything but the task head: embeddings, blocks, final norm and pooler (the same in every ViLT head). */
export type ViltBackboneWeights = Omit<ViltWeights, 'head'>;

/** The backbone of a Hugging Face layout checkpoint (`vilt.embeddings.*`, `vilt.encoder.layer.*`). */
export function hfBackboneWeights(src: TensorSource, config: ViltConfig): ViltBackboneWeights {
  const g = config.geometry;
  const d = g.hiddenSize;
  const grid = g.imageSize / g.patchSize;
  const e = 'vilt.embeddings';
  const modality = src.get(`${e}.token_type_embeddings.weight`, [config.modalityTypeVocabSize, d]);
  const layers = [];
  for (let i = 0; i < g.numLayers; i++) {
    const l = `vilt.encoder.layer.${i}`;
    layers.push({
      norm1: src.norm(`${l}.layernorm_before`, d, g.layerNormEps),
      query: src.linear(`${l}.attention.attention.query`, d, d, config.qkvBias),
      key: src.linear(`${l}.attention.attention.key`, d, d, config.qkvBias),
      value: src.linear(`${l}.attention.attention.value`, d, d, config.qkvBias),
      proj: src.linear(`${l}.attention.output.dense`, d, d),
      norm2: src.norm(`${l}.layernorm_after`, d, g.layerNormEps),
      fc1: src.linear(`${l}.intermediate.dense`, g.intermediateSize, d),
      fc2: src.linear(`${l}.output.dense`, d, g.intermediateSize),
    });
  }
  return {
    wordEmbeddings: src.get(`${e}.text_embeddings.word_embeddings.weight`, [g.vocabSize, d]),
    textPositionEmbeddings: src.get(`${e}.text_embeddings.position_embeddings.weight`, [g.maxTextLength, d]),
    textTokenTypeEmbeddings: src.get(`${e}.text_embeddings.token_type_embeddings.weight`, [
      config.typeVocabSize,
      d,
    ]),
    textNorm: src.norm(`${e}.text_embeddings.LayerNorm`, d, g.layerNormEps),
    clsToken: src.get(`${e}.cls_token`, [1, 1, d], [d]),
    imagePositionEmbeddings: src.get(
      `${e}.position_embeddings`,
      [1, 1 + grid * grid, d],
      [1 + grid * grid, d],
    ),
    patchProjection: {
      weight: src.get(`${e}.patch_embeddings.projection.weight`, [
        d,
        g.numChannels,
        g.patchSize,
        g.patchSize,
      ]),
      bias: src.get(`${e}.patch_embeddings.projection.bias`, [d]),
    },
    modalityEmbeddings: modalityRows(modality, g.numImages),
    layers,
    finalNorm: src.norm('vilt.layernorm', d, g.layerNormEps),
    pooler: src.linear('vilt.pooler.dense', d, d),
  };
}

/**
 * The rows of a modality table the model reads: 0 (text) and one per image (1, and 2 for NLVR2's second
 * image). A single-image head of a table with more rows leaves them unused.
 */
export function modalityRows(modality: FloatTensor, numImages: number): FloatTensor {
  const d = modality.shape[1];
  const rows = numImages + 1;
  if (modality.shape[0] < rows) {
    throw new PumerError(
      'CHECKPOINT',
      `the modality table has ${modality.shape[0]} rows, but ${numImages} image(s) per example need ${rows} (text and one per image)`,
    );
  }
  return floatTensor(modality.data.subarray(0, rows * d), [rows, d]);
}

/** Where a Hugging Face layout checkpoint keeps each task's head. */
export function hfHeadPrefix(task: ViltTask): string {
  return task === 'retrieval' ? 'rank_output' : 'classifier';
}

/** Hugging Face layout tensors (any head) -> core's ViltWeights. */
export function viltWeightsFromTensors(
  tensors: ReadonlyMap<string, CheckpointTensor>,
  config: ViltConfig,
  source = 'model.safetensors',
): ViltWeights {
  const src = new TensorSource(tensors, source);
  const weights = {
    ...hfBackboneWeights(src, config),
    head: headWeights(src, { task: config.task, prefix: hfHeadPrefix(config.task) }, config.geometry),
  };
  src.checkAllUsed(HF_IGNORED_TENSORS, config.geometry.numLayers, 'num_hidden_layers');
  return weights;
}
