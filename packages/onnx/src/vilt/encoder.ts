import { type LayerPlan, planLayer, type ReductionConfig, type ViltModel } from '@pumer/core';
import { transformerBlock } from '../block.js';
import type { GraphBuilder } from '../builder.js';
import { maskHat } from '../nn.js';
import { emitTrace, type TraceOutputs } from '../standalone.js';
import { embedImage, type ImageGrid } from './embeddings.js';

/** One layer of a pass: core's plan and the names of its trace outputs. */
export interface PassLayer {
  readonly plan: LayerPlan;
  readonly trace: TraceOutputs;
}

/** What one encoder pass reads: the embedded text, one image and how the schedule reduces it. */
export interface ImagePassSpec {
  /** Embedded text [B, T, D] (modality 0 added) and its attention mask [B, T]. */
  readonly text: string;
  readonly attentionMask: string;
  readonly textLen: number;
  /** Pixels [B, C, H, W] and, for padded batches, their 0/1 mask [B, H, W]. */
  readonly pixels: string;
  readonly pixelMask: string | null;
  readonly grid: ImageGrid;
  /** The image's modality row: 1, or 2 for NLVR2's second image. */
  readonly modalityRow: number;
  readonly config: ReductionConfig | null;
  /** Prefix of this pass's trace outputs (e.g. 'layer' or 'image2_layer'). */
  readonly tracePrefix: string;
}

/**
 * One ViLT encoder pass over [text; image] as graph values, twin of the per-pass loop of @pumer/backend-cpu's
 * forward: the image embedding, every block with its reduce step as core's planLayer says (the layer plan of
 * docs/reducers.md), a trace output per reducing layer. Returns the last hidden states [B, N', D].
 */
export function encodeImagePass(
  g: GraphBuilder,
  model: ViltModel,
  pass: ImagePassSpec,
): { x: string; layers: PassLayer[] } {
  const geo = model.geometry;
  const w = model.weights;
  const t = pass.textLen;
  const image = embedImage(g, model, pass.grid, pass.pixels, pass.pixelMask, pass.modalityRow);
  let x = g.concat([pass.text, image.x], 1); // [B, N, D]
  // Without a pixel mask the image part is all ones.
  let mask = image.mask
    ? g.concat([pass.attentionMask, image.mask], 1)
    : g.pad(pass.attentionMask, 2, 1, 0, image.tokens, 1);
  let hat = maskHat(g, mask, t + image.tokens);
  const layers: PassLayer[] = [];
  let textIn = t;
  let imageIn = image.tokens;
  for (let l = 0; l < geo.numLayers; l++) {
    const plan: LayerPlan = pass.config
      ? planLayer(pass.config, l, textIn, imageIn)
      : { kind: 'none', textIn, imageIn, textOut: textIn, imageOut: imageIn };
    const scope = `${pass.tracePrefix}${l}`;
    const out = g.within(scope, () =>
      transformerBlock(g, { x, mask, maskHat: hat }, w.layers[l], geo.numHeads, plan, pass.config, scope),
    );
    x = out.x;
    mask = out.mask;
    hat = out.maskHat;
    layers.push({ plan, trace: emitTrace(g, out.trace, plan, `${scope}_`) });
    textIn = plan.textOut;
    imageIn = plan.imageOut;
  }
  return { x, layers };
}
