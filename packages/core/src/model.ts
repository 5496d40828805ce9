import type { FloatTensor, IntTensor } from './tensor.js';

/**
 * The model vocabulary shared by the loader (@pumer/vilt) and every backend: a ViLT described by its
 * geometry and its weights, with no file-format names in sight. @pumer/vilt maps Hugging Face parameter
 * names onto this; backends read only this.
 */

/** y = x W^T + b, with W of shape [out, in] (PyTorch's layout). */
export interface LinearWeights {
  readonly weight: FloatTensor;
  readonly bias: FloatTensor | null;
}

export interface LayerNormWeights {
  readonly weight: FloatTensor;
  readonly bias: FloatTensor;
  readonly eps: number;
}

/** One pre-norm transformer block (timm / HF ViLT layer). GELU is the exact erf form. */
export interface BlockWeights {
  readonly norm1: LayerNormWeights;
  readonly query: LinearWeights;
  readonly key: LinearWeights;
  readonly value: LinearWeights;
  readonly proj: LinearWeights;
  readonly norm2: LayerNormWeights;
  readonly fc1: LinearWeights;
  readonly fc2: LinearWeights;
}

export interface ViltGeometry {
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly intermediateSize: number;
  readonly layerNormEps: number;
  readonly vocabSize: number;
  /** Text window (max_position_embeddings): inputs are padded or truncated to this many tokens. */
  readonly maxTextLength: number;
  /** The image side the position embeddings were trained for. */
  readonly imageSize: number;
  readonly patchSize: number;
  readonly numChannels: number;
  readonly numLabels: number;
  /** Images per example: 1, or 2 for NLVR2 (each image runs its own pass over [text; image]). */
  readonly numImages: number;
}

/** The task a checkpoint's head answers. */
export type ViltTask = 'vqa' | 've' | 'nlvr2' | 'retrieval';

/** Linear -> LayerNorm -> GELU -> Linear over the pooled output (or, for NLVR2, the images' pooled outputs concatenated). */
export interface ClassifierHead {
  readonly kind: 'classifier';
  readonly fc1: LinearWeights; // [hidden', numImages * D]
  readonly norm: LayerNormWeights;
  readonly fc2: LinearWeights; // [numLabels, hidden']
}

/** One score per (text, image) pair: rank_output on the pooled output. */
export interface RankHead {
  readonly kind: 'rank';
  readonly rank: LinearWeights; // [1, D]
}

export type ViltHead = ClassifierHead | RankHead;

export interface ViltWeights {
  readonly wordEmbeddings: FloatTensor; // [vocab, D]
  readonly textPositionEmbeddings: FloatTensor; // [maxTextLength, D]
  readonly textTokenTypeEmbeddings: FloatTensor; // [types, D]; text uses row 0
  readonly textNorm: LayerNormWeights;
  readonly clsToken: FloatTensor; // [D]
  readonly imagePositionEmbeddings: FloatTensor; // [1 + g*g, D], g = imageSize / patchSize
  readonly patchProjection: LinearWeights; // weight [D, C, p, p]
  readonly modalityEmbeddings: FloatTensor; // [types, D]: 0 text, 1 image, 2 NLVR2's second image
  readonly layers: readonly BlockWeights[];
  readonly finalNorm: LayerNormWeights;
  readonly pooler: LinearWeights;
  readonly head: ViltHead;
}

export interface ViltModel {
  /** Stable identity of these weights (e.g. path + size + mtime), used by backends to cache graphs. */
  readonly id: string;
  readonly geometry: ViltGeometry;
  readonly weights: ViltWeights;
  readonly labels: readonly string[];
  readonly task: ViltTask;
}

/** A prepared batch: token ids, their 0/1 mask, and normalised pixels. All rows share one shape. */
export interface ViltInputs {
  readonly inputIds: IntTensor; // [B, T]
  readonly attentionMask: IntTensor; // [B, T]
  /**
   * [B, C, H, W] (numImages 1) or [B, numImages, C, H, W] (NLVR2), H and W multiples of patchSize; the images
   * of an example share one padded H x W.
   */
  readonly pixelValues: FloatTensor;
  /**
   * [B, H, W] (or [B, numImages, H, W]) int32 0/1, Hugging Face's `pixel_mask`: 1 over each image, 0 over the padding that brings images
   * of different sizes to one H x W (bottom and right). Each image's valid patch grid is the top-left rectangle
   * its mask covers; see `checkImageGrids`. Absent: every pixel is valid.
   */
  readonly pixelMask?: IntTensor;
}

/**
 * What a layer did, in indices a UI can draw. Positions are relative to the layer's own input and output:
 * compose them across layers to follow an original patch.
 */
export interface LayerTrace {
  readonly layer: number;
  readonly kind: 'none' | 'pumer' | 'tome';
  readonly textIn: number;
  readonly imageIn: number;
  readonly textOut: number;
  readonly imageOut: number;
  /** pumer: text saliency of every image token before pruning, [B, imageIn]. */
  readonly imageSaliency?: FloatTensor;
  /** pumer: image tokens kept, in descending saliency, [B, keep] (indices into the layer's image tokens). */
  readonly keepIdx?: IntTensor;
  /** pumer: output image position of each kept token, [B, keep]; equal entries were merged together. */
  readonly imageDst?: IntTensor;
  /** pumer: output text position of each text token, [B, textIn]. */
  readonly textDst?: IntTensor;
  /** tome: output position of every token of the sequence, [B, textIn + imageIn]. */
  readonly tokenDst?: IntTensor;
}

export interface ViltOutputs {
  /** [B, numLabels] for classifier heads (VQA: sigmoid scores; VE, NLVR2: softmax classes), [B, 1] for rank. */
  readonly logits: FloatTensor;
  /** The layers of the (first) image pass. */
  readonly layers: readonly LayerTrace[];
  /**
   * numImages 2: the traces of each image's pass (pass i uses modality row i + 1 and is reduced on its own);
   * `layers` is `imagePasses[0]`.
   */
  readonly imagePasses?: readonly (readonly LayerTrace[])[];
}
