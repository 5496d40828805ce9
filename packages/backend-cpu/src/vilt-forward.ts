import {
  checkImagePasses,
  expectShape,
  type FloatTensor,
  type LayerTrace,
  type ReductionConfig,
  ShapeError,
  type ViltInputs,
  type ViltModel,
  type ViltOutputs,
  validateReductionConfig,
} from '@pumer/core';
import { runBlockSync } from './block.js';
import { embedImage, embedText, joinModalities } from './vilt/embeddings.js';
import { classifierHead, concatPooled, pooledOutput, rankHead } from './vilt/head.js';

/**
 * The whole ViLT on the CPU, Hugging Face semantics: per image pass, the embeddings (text then image), the
 * encoder blocks with the PuMer schedule applied (`null`: unreduced), the final LayerNorm and the pooler; then
 * the checkpoint's head. Returns the logits and what every layer of every pass did to the tokens.
 */

/** What one image pass left: its pooled rows [B, D] and its layer traces. */
export interface ImagePass {
  readonly pooled: FloatTensor;
  readonly layers: readonly LayerTrace[];
}

/**
 * One full ViLT pass per image of each example (Hugging Face ViltForImagesAndTextClassification, the
 * authors' ViltForVisualReasoning): pass i runs [text; image i] with image modality row i + 1 and is reduced
 * on its own. numImages 1: the single pass of VQA, VE and retrieval.
 */
export function runImagePasses(
  model: ViltModel,
  inputs: ViltInputs,
  config: ReductionConfig | null,
): ImagePass[] {
  const g = model.geometry;
  const w = model.weights;
  const batch = inputs.inputIds.shape[0];
  expectShape('inputIds', inputs.inputIds, [batch, null]);
  expectShape('attentionMask', inputs.attentionMask, [batch, inputs.inputIds.shape[1]]);
  const pixelShape =
    g.numImages === 1 ? [batch, g.numChannels, null, null] : [batch, g.numImages, g.numChannels, null, null];
  expectShape('pixelValues', inputs.pixelValues, pixelShape);
  if (w.layers.length !== g.numLayers) {
    throw new ShapeError(
      `model has ${w.layers.length} layers of weights but its geometry says ${g.numLayers}`,
    );
  }
  if (w.modalityEmbeddings.shape[0] < g.numImages + 1) {
    throw new ShapeError(
      `model has ${w.modalityEmbeddings.shape[0]} modality rows, but ${g.numImages} image(s) need ${g.numImages + 1}`,
    );
  }
  const schedule = config ? validateReductionConfig(config, g.numLayers) : null;
  const images = checkImagePasses(inputs.pixelValues, inputs.pixelMask, g.patchSize, g.numImages);
  const text = embedText(w, g, inputs.inputIds);
  return images.map((image, i) => {
    const embedded = embedImage(w, g, image.pixelValues, image.pixelMask, i + 1);
    let { x, mask } = joinModalities(text, embedded.x, inputs.attentionMask, embedded.mask);
    // The reference reduces over the padded text window: textLen starts at T, padding included.
    let textLen = inputs.inputIds.shape[1];
    const layers: LayerTrace[] = [];
    for (let layer = 0; layer < g.numLayers; layer++) {
      const out = runBlockSync({
        weights: w.layers[layer],
        numHeads: g.numHeads,
        x,
        mask,
        textLen,
        config: schedule,
        layer,
      });
      x = out.x;
      mask = out.mask;
      textLen = out.textLen;
      layers.push(out.trace);
    }
    return { pooled: pooledOutput(w, x), layers };
  });
}

/**
 * The model's logits: the image passes, then the head — a classifier over the pooled rows (NLVR2: both
 * images' pooled rows side by side) or rank_output (retrieval).
 */
export function viltForward(
  model: ViltModel,
  inputs: ViltInputs,
  config: ReductionConfig | null,
): ViltOutputs {
  const passes = runImagePasses(model, inputs, config);
  const head = model.weights.head;
  const logits =
    head.kind === 'rank'
      ? rankHead(head, passes[0].pooled)
      : classifierHead(head, concatPooled(passes.map((p) => p.pooled)));
  const layers = passes[0].layers;
  return model.geometry.numImages === 1
    ? { logits, layers }
    : { logits, layers, imagePasses: passes.map((p) => p.layers) };
}
