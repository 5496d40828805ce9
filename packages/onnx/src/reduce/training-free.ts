import {
  type LayerPlan,
  layerMergeDecision,
  MERGE_STYLE_RULES,
  mergeStyleRule,
  type ReductionConfig,
  saliencyRule,
  TRAINING_FREE_SIZE_FLOOR,
  trainingFreeSaliencyRule,
} from '@pumer/core';
import type { GraphBuilder } from '../builder.js';
import { l2Normalize } from '../nn.js';
import { mergeTokens } from './merge.js';
import { selectTop } from './prune.js';
import { oneHotRows, range } from './rank.js';
import type { BlockTrace, LayerTokens } from './reduce-layer.js';
import { saliencyScores } from './saliency.js';

/**
 * The reduce step of a `pumer` layer in training-free mode (docs/reducers.md, "Training-free mode"), twin of
 * @pumer/backend-cpu's `trainingFreeReduce`: the layer plan's counts, with sizes carried in the mask
 * (proportional attention through the soft mask), pruned tokens recycled into their most similar kept token,
 * and head-averaged attention saliency (core's training-free rules).
 */

/**
 * Where each of the I image tokens goes among the `keep` kept ones, float [B, I]: a kept token to its own
 * rank, a pruned one to the kept token whose key is most similar (cosine; ties: the first in rank order).
 */
function recycleDst(g: GraphBuilder, keptT: string, imageKeys: string, keep: number): string {
  const unit = l2Normalize(g, imageKeys); // [B, I, hd]
  const keptUnit = g.matmul(g.transpose(keptT, [0, 2, 1]), unit); // [B, keep, hd]
  const sim = g.matmul(unit, g.transpose(keptUnit, [0, 2, 1])); // [B, I, keep]
  const best = g.reduce('ReduceMax', sim, [2]);
  const isBest = g.cast(g.op('Equal', [sim, best]), 'float32');
  const firstWeight = g.reduce(
    'ReduceMax',
    g.mul(isBest, g.floats(range(keep, (k) => keep - k))),
    [2],
    false,
  );
  const nearest = g.sub(g.float(keep), firstWeight); // [B, I]
  const kept = g.op('Greater', [g.reduceSum(keptT, [2], false), g.float(0.5)]); // [B, I]
  const ownRank = g.squeeze(g.matmul(keptT, g.floats(range(keep), [keep, 1])), [2]);
  return g.where(kept, ownRank, nearest);
}

/** Rows of x [B, n, C] combined by a destination map dst [B, n] weighted by size [B, n, 1]: states and sizes. */
function weightedRows(g: GraphBuilder, x: string, dst: string, nOut: number, size: string) {
  const m = oneHotRows(g, dst, nOut); // [B, nOut, n]
  const total = g.matmul(m, size); // [B, nOut, 1]
  return { x: g.div(g.matmul(m, g.mul(x, size)), total), size: total };
}

export function trainingFreeReduce(
  g: GraphBuilder,
  plan: Extract<LayerPlan, { kind: 'pumer' }>,
  config: ReductionConfig,
  tokens: LayerTokens,
  kbar: string,
): { x: string; mask: string; trace: BlockTrace } {
  const { x, mask } = tokens;
  const t = plan.textIn;
  const n = t + plan.imageIn;
  const { keep } = plan;
  const textMask = g.slice(mask, 1, 0, t);
  const rule = trainingFreeSaliencyRule(saliencyRule(config.saliency));
  // The queries carry the folded scale; undo it where the rule reads them.
  const qbar =
    rule.textSide === 'queries'
      ? g.mul(g.reduce('ReduceMean', tokens.q, [2], false), g.float(1 / tokens.scale))
      : undefined;
  const saliency = saliencyScores(g, rule, { attn: tokens.attn, kbar, qbar, textMask }, t, n);
  const top = selectTop(g, saliency, plan.imageIn, keep);
  const keptT = oneHotRows(g, top.idx, plan.imageIn); // [B, I, keep]: image token i is kept as rank k
  const imageKeys = g.slice(kbar, 1, t, n);
  const recycled = weightedRows(
    g,
    g.slice(x, 1, t, n),
    recycleDst(g, keptT, imageKeys, keep),
    keep,
    g.unsqueeze(g.slice(mask, 1, t, n), [2]),
  );
  const imageRule = mergeStyleRule(config.mergeStyle);
  const image = mergeTokens(g, layerMergeDecision(imageRule, plan.imageMergeR), {
    n: keep,
    x: recycled.x,
    metric: imageRule.reads.metric ? g.matmul(g.transpose(keptT, [0, 2, 1]), imageKeys) : null,
    saliency: top.values,
    size: recycled.size,
  });
  // Sizes add up whatever the style's combine: the next layers' attention weighs each token by its size.
  const imageSize =
    plan.imageMergeR === 0 ? recycled.size : g.matmul(oneHotRows(g, image.dst, plan.imageOut), recycled.size);
  // Text: ToMe on the keys, states weighted by their mask (padding barely counts), masks summed.
  const textMask3 = g.unsqueeze(textMask, [2]);
  const text = mergeTokens(g, layerMergeDecision(MERGE_STYLE_RULES.tome, plan.textMergeR), {
    n: t,
    x: g.slice(x, 1, 0, t),
    metric: g.slice(kbar, 1, 0, t),
    saliency: null,
    size: g.add(textMask3, g.float(TRAINING_FREE_SIZE_FLOOR)),
  });
  const textMaskOut =
    plan.textMergeR === 0
      ? textMask
      : g.squeeze(g.matmul(oneHotRows(g, text.dst, plan.textOut), textMask3), [2]);
  return {
    x: g.concat([text.x, image.x], 1),
    mask: g.concat([textMaskOut, g.squeeze(imageSize, [2])], 1),
    trace: { saliency, keepIdx: top.idx, imageDst: image.dst, textDst: text.dst },
  };
}
