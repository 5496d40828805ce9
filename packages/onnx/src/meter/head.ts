import type { MeterWeights, ViltHead } from '@pumer/core';
import type { GraphBuilder } from '../builder.js';
import { linear } from '../nn.js';
import { classifierHead, rankHead } from '../vilt/head.js';

/**
 * METER's pooling and heads as graph values, twins of @pumer/backend-cpu's meter/head.ts (docs/meter.md,
 * "Pooling and heads").
 */

/**
 * cls_feats of one pass [B, 2D]: [tanh(text pooler(x[:, 0])), tanh(image pooler(y[:, 0]))]. Row 0 of the image
 * stream is whatever the last reducing step put first (its most salient kept token), as in the reference.
 */
export function meterPooledFeatures(g: GraphBuilder, w: MeterWeights, text: string, image: string): string {
  const d = w.textPooler.weight.shape[1];
  const first = (x: string) => g.reshape(g.slice(x, 1, 0, 1), [-1, d]); // [B, D]
  const textCls = g.op('Tanh', [linear(g, first(text), w.textPooler, 'cross_modal_text_pooler', true)]);
  const imageCls = g.op('Tanh', [linear(g, first(image), w.imagePooler, 'cross_modal_image_pooler', true)]);
  return g.concat([textCls, imageCls], 1);
}

/**
 * The task head over the passes' cls_feats side by side [B, 2D·numImages]: the classifier (Linear -> LayerNorm
 * -> GELU -> Linear; VQA, VE, NLVR2) -> logits [B, numLabels], or rank -> [B, 1] — ViLT's head fragments.
 */
export function meterHead(g: GraphBuilder, head: ViltHead, clsFeats: string): string {
  return head.kind === 'rank' ? rankHead(g, head, clsFeats) : classifierHead(g, head, clsFeats);
}
