import type { ReductionConfig } from './config.js';
import type {
  BlockWeights,
  LayerNormWeights,
  LayerTrace,
  LinearWeights,
  ViltHead,
  ViltTask,
} from './model.js';
import type { CoAttentionPlan } from './rules/co-attention-plan.js';
import type { FloatTensor, IntTensor } from './tensor.js';

/**
 * METER, the paper's second model, in the vocabulary every backend reads (docs/meter.md): a RoBERTa text
 * encoder and a CLIP ViT image encoder, neither reduced, then `numSteps` co-attention steps, each a text layer
 * (where PuMer acts) followed by an image layer, then the pooled [text CLS; image row 0] features and the task's
 * head. @pumer/meter maps the authors' parameter names onto this; backends read only this.
 */

/** One BERT-style attention sub-layer: Q/K/V, the output projection and the post-LayerNorm of the residual. */
export interface BertAttentionWeights {
  readonly query: LinearWeights;
  readonly key: LinearWeights;
  readonly value: LinearWeights;
  readonly output: LinearWeights;
  readonly norm: LayerNormWeights;
}

/** BERT's feed-forward sub-layer: intermediate (exact GELU), output, post-LayerNorm of the residual. */
export interface BertFeedForwardWeights {
  readonly intermediate: LinearWeights;
  readonly output: LinearWeights;
  readonly norm: LayerNormWeights;
}

/** A post-LN BERT layer (RoBERTa's). */
export interface BertLayerWeights {
  readonly attention: BertAttentionWeights;
  readonly feedForward: BertFeedForwardWeights;
}

/** A co-attention layer (the authors' BertCrossLayer): self-attention, cross-attention to the other stream, FFN. */
export interface CrossLayerWeights {
  readonly attention: BertAttentionWeights;
  readonly crossAttention: BertAttentionWeights;
  readonly feedForward: BertFeedForwardWeights;
}

/** One co-attention step: the text layer (PuMer inside) and the image layer. */
export interface CoAttentionStepWeights {
  readonly text: CrossLayerWeights;
  readonly image: CrossLayerWeights;
}

export interface MeterTextEncoderGeometry {
  readonly numLayers: number;
  readonly hiddenSize: number;
  readonly numHeads: number;
  readonly intermediateSize: number;
  readonly layerNormEps: number;
  readonly vocabSize: number;
  /** Rows of the position table (RoBERTa: max_position_embeddings; positions start at padTokenId + 1). */
  readonly maxPositions: number;
  readonly padTokenId: number;
}

export interface MeterImageEncoderGeometry {
  /** CLIP ViT width. */
  readonly width: number;
  /** Residual blocks (the authors build CLIP with layers - 1 of them: 11 for ViT-B/16). */
  readonly numBlocks: number;
  readonly numHeads: number;
  readonly patchSize: number;
  /** Square input side; (imageSize / patchSize)^2 + 1 image tokens. */
  readonly imageSize: number;
  readonly layerNormEps: number;
}

export interface MeterGeometry {
  /** Hidden size D of the co-attention layers. */
  readonly hiddenSize: number;
  readonly numHeads: number;
  readonly intermediateSize: number;
  /** Co-attention steps (the authors' num_top_layer); step s is their layer_idx 2s. */
  readonly numSteps: number;
  /** LayerNorm eps inside the co-attention layers (1e-12 in the authors' code). */
  readonly crossLayerNormEps: number;
  /** Text window: inputs are padded or truncated to at most this many tokens. */
  readonly maxTextLength: number;
  readonly text: MeterTextEncoderGeometry;
  readonly image: MeterImageEncoderGeometry;
  readonly numLabels: number;
  /** Images per example: 1, or 2 for NLVR2 (each image runs its own pass; token type 1 then 2). */
  readonly numImages: number;
}

export interface MeterTextEncoderWeights {
  readonly wordEmbeddings: FloatTensor; // [vocab, Dt]
  readonly positionEmbeddings: FloatTensor; // [maxPositions, Dt]
  readonly tokenTypeEmbeddings: FloatTensor; // [1, Dt]
  readonly embeddingNorm: LayerNormWeights;
  readonly layers: readonly BertLayerWeights[];
}

/**
 * CLIP's ViT. Blocks are pre-LN like ViLT's (`BlockWeights`, `in_proj` split into query/key/value) but use
 * QuickGELU, z·sigmoid(1.702 z).
 */
export interface MeterImageEncoderWeights {
  readonly classEmbedding: FloatTensor; // [W]
  readonly positionEmbeddings: FloatTensor; // [g*g + 1, W]
  readonly patchProjection: FloatTensor; // conv1, no bias: [W, 3, p, p]
  readonly preNorm: LayerNormWeights;
  readonly blocks: readonly BlockWeights[];
  readonly postNorm: LayerNormWeights;
}

export interface MeterWeights {
  readonly textEncoder: MeterTextEncoderWeights;
  readonly imageEncoder: MeterImageEncoderWeights;
  readonly textTransform: LinearWeights; // [D, Dt]
  readonly imageTransform: LinearWeights; // [D, W]
  /** METER-level token types [types, D]: 0 text, 1 image, 2 NLVR2's second image. */
  readonly tokenTypeEmbeddings: FloatTensor;
  readonly steps: readonly CoAttentionStepWeights[];
  readonly textPooler: LinearWeights; // [D, D], tanh
  readonly imagePooler: LinearWeights; // [D, D], tanh
  /** classifier over [B, 2D·numImages] (VQA, VE, NLVR2), or rank over [B, 2D] (retrieval). */
  readonly head: ViltHead;
}

export interface MeterModel {
  readonly kind: 'meter';
  /** Stable identity of these weights, used by backends to cache graphs. */
  readonly id: string;
  readonly geometry: MeterGeometry;
  readonly weights: MeterWeights;
  readonly labels: readonly string[];
  readonly task: ViltTask;
}

/** A prepared batch. All rows share one shape. */
export interface MeterInputs {
  /** RoBERTa ids [B, T] (<s> 0, <pad> 1, </s> 2). */
  readonly inputIds: IntTensor;
  /** 1 = token, 0 = padding [B, T]. */
  readonly attentionMask: IntTensor;
  /** CLIP-normalised pixels [B, 3, S, S], or [B, 2, 3, S, S] for NLVR2. */
  readonly pixelValues: FloatTensor;
}

export interface MeterOutputs {
  /** [B, numLabels] raw classifier outputs, or [B, 1] for rank. */
  readonly logits: FloatTensor;
  /** [B, 2D·numImages]: per pass, tanh(text pooler(text CLS)) then tanh(image pooler(image row 0)). */
  readonly clsFeats: FloatTensor;
  /** The co-attention steps of the first pass (LayerTrace.layer = step index). */
  readonly steps: readonly LayerTrace[];
  /** numImages 2: each pass's steps; `steps` is `passes[0]`. */
  readonly passes?: readonly (readonly LayerTrace[])[];
}

/** One co-attention step on raw tensors (the golden `meter_cross_layer` case). */
export interface CoAttentionStepArgs {
  readonly weights: CoAttentionStepWeights;
  readonly numHeads: number;
  readonly layerNormEps: number;
  readonly text: FloatTensor; // [B, T, D]
  readonly textMask: FloatTensor; // [B, T], possibly fractional
  readonly image: FloatTensor; // [B, I, D]
  readonly imageMask: FloatTensor; // [B, I]
  /** The schedule in step indices; the step reduces if `step` is one of its reduce layers. */
  readonly config: ReductionConfig | null;
  readonly step: number;
}

export interface CoAttentionStepResult {
  /** The text layer's output x' [B, T', D] and mask m_t' [B, T']. */
  readonly text: FloatTensor;
  readonly textMask: FloatTensor;
  /** The image tokens after the text layer's reduce step (y_r) [B, I', D] and their mask [B, I']. */
  readonly imageReduced: FloatTensor;
  readonly imageMask: FloatTensor;
  /** The image layer's output y' [B, I', D]. */
  readonly image: FloatTensor;
  /** The text layer's cross-attention probabilities before reduction [B, H, T, I]. */
  readonly textToImageAttn: FloatTensor;
  /** The image layer's cross-attention probabilities [B, H, I', T']. */
  readonly imageToTextAttn: FloatTensor;
  readonly plan: CoAttentionPlan;
  readonly trace: LayerTrace;
}
