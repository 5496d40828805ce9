import { type FloatTensor, floatTensor, PumerError, type ViltWeights } from '@pumer/core';
import type { ViltConfig } from './config.js';
import { type CheckpointTensor, isFloatTensor } from './checkpoint/tensors.js';

/**
 * Maps Hugging Face ViltForQuestionAnswering parameter names onto core's ViltWeights, checking every
 * tensor's shape against config.json. Extra tensors are ignored (other heads, buffers such as the int64
 * `position_ids` hub checkpoints carry).
 */

/** The classifier's LayerNorm is built with PyTorch's default eps, not config.layer_norm_eps. */
export const CLASSIFIER_NORM_EPS = 1e-5;

class TensorSource {
  constructor(
    private readonly tensors: ReadonlyMap<string, CheckpointTensor>,
    private readonly source: string,
  ) {}

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
    return floatTensor(t.data, viewShape);
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

export function viltWeightsFromTensors(
  tensors: ReadonlyMap<string, CheckpointTensor>,
  config: ViltConfig,
  source = 'model.safetensors',
): ViltWeights {
  const g = config.geometry;
  const d = g.hiddenSize;
  const grid = g.imageSize / g.patchSize;
  const src = new TensorSource(tensors, source);
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
    // Text is modality 0 and image modality 1; further rows (extra images in NLVR2 checkpoints) are unused.
    modalityEmbeddings: floatTensor(modality.data.subarray(0, 2 * d), [2, d]),
    layers,
    finalNorm: src.norm('vilt.layernorm', d, g.layerNormEps),
    pooler: src.linear('vilt.pooler.dense', d, d),
    classifier: {
      fc1: src.linear('classifier.0', 2 * d, d),
      norm: src.norm('classifier.1', 2 * d, CLASSIFIER_NORM_EPS),
      fc2: src.linear('classifier.3', g.numLabels, 2 * d),
    },
  };
}
