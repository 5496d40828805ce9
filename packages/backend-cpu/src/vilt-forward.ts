import {
  expectShape,
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
import { viltHead } from './vilt/head.js';

/**
 * The whole ViLT for VQA on the CPU, Hugging Face semantics: embeddings (text then image), the encoder
 * blocks with the PuMer schedule applied (`null`: unreduced), the final LayerNorm, the pooler and the
 * classifier. Returns the logits and what every layer did to the tokens.
 */
export function viltForward(
  model: ViltModel,
  inputs: ViltInputs,
  config: ReductionConfig | null,
): ViltOutputs {
  const g = model.geometry;
  const w = model.weights;
  const batch = inputs.inputIds.shape[0];
  expectShape('inputIds', inputs.inputIds, [batch, null]);
  expectShape('attentionMask', inputs.attentionMask, [batch, inputs.inputIds.shape[1]]);
  expectShape('pixelValues', inputs.pixelValues, [batch, g.numChannels, null, null]);
  if (w.layers.length !== g.numLayers) {
    throw new ShapeError(
      `model has ${w.layers.length} layers of weights but its geometry says ${g.numLayers}`,
    );
  }
  const schedule = config ? validateReductionConfig(config, g.numLayers) : null;
  const text = embedText(w, g, inputs.inputIds);
  const image = embedImage(w, g, inputs.pixelValues, inputs.pixelMask);
  let { x, mask } = joinModalities(text, image.x, inputs.attentionMask, image.mask);
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
  return { logits: viltHead(w, x), layers };
}
