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
import { rowGather } from './rows.js';
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
 * Where each of the P pruned image tokens goes among the `keep` kept ones, float [B, P]: the kept token whose
 * key is most similar (cosine; ties: the first in rank order). Keys as unit rows: pruned [B, P, hd], kept
 * [B, keep, hd]. Only the pruned rows are compared: the kept ones stay where they are.
 */
function recycleDst(g: GraphBuilder, prunedUnit: string, keptUnit: string, keep: number): string {
  const sim = g.matmul(prunedUnit, g.transpose(keptUnit, [0, 2, 1])); // [B, P, keep]
  const best = g.reduce('ReduceMax', sim, [2]);
  const isBest = g.cast(g.op('Equal', [sim, best]), 'float32');
  const firstWeight = g.reduce(
    'ReduceMax',
    g.mul(isBest, g.floats(range(keep, (k) => keep - k))),
    [2],
    false,
  );
  return g.sub(g.float(keep), firstWeight); // [B, P]
}

interface SizedRows {
  /** States [B, n, C]. */
  readonly x: string;
  /** Sizes [B, n, 1]. */
  readonly size: string;
}

/**
 * The kept rows with the pruned rows recycled into them (dst [B, P] among `keep`), size-weighted: states
 * (Σ size·x / Σ size) and sizes (Σ size) of the `keep` tokens.
 */
function recycleRows(
  g: GraphBuilder,
  kept: SizedRows,
  pruned: SizedRows,
  dst: string,
  keep: number,
): SizedRows {
  const m = oneHotRows(g, dst, keep); // [B, keep, P]
  const size = g.add(kept.size, g.matmul(m, pruned.size));
  const sum = g.add(g.mul(kept.x, kept.size), g.matmul(m, g.mul(pruned.x, pruned.size)));
  return { x: g.div(sum, size), size };
}

export function trainingFreeReduce(
  g: GraphBuilder,
  plan: Extract<LayerPlan, { kind: 'pumer' }>,
  config: ReductionConfig,
  tokens: LayerTokens,
  kbar: string,
): { x: string; mask: string; trace: BlockTrace } {
  const { x, mask, d, hd } = tokens;
  const t = plan.textIn;
  const n = t + plan.imageIn;
  const { keep } = plan;
  const textMask = g.slice(mask, 1, 0, t);
  const rule = trainingFreeSaliencyRule(saliencyRule(config.saliency));
  // The queries carry the folded scale; undo it where the rule reads them.
  const qbar =
    rule.textSide === 'queries'
      ? g.mul(tokens.qbar ?? g.reduce('ReduceMean', tokens.q, [2], false), g.float(1 / tokens.scale))
      : undefined;
  const saliency = saliencyScores(
    g,
    rule,
    { attn: tokens.attn, textToImage: tokens.textToImage, kbar, qbar, textMask },
    t,
    n,
  );
  const top = selectTop(g, saliency, plan.imageIn, keep);
  const prunedCount = plan.imageIn - keep;
  const imageX = g.slice(x, 1, t, n);
  const imageKeys = g.slice(kbar, 1, t, n);
  const imageSize = g.unsqueeze(g.slice(mask, 1, t, n), [2]); // [B, I, 1]
  const keptRows = rowGather(g, top.idx, plan.imageIn);
  const keptKeys = keptRows(imageKeys, hd); // [B, keep, hd]
  const kept = { x: keptRows(imageX, d), size: keptRows(imageSize, 1) };
  let recycled = kept;
  if (prunedCount > 0) {
    // The pruned tokens in rank order: ranks keep … I-1.
    const prunedIdx = g.squeeze(
      g.matmul(
        oneHotRows(g, g.sub(top.rank, g.float(keep)), prunedCount),
        g.floats(range(plan.imageIn), [plan.imageIn, 1]),
      ),
      [2],
    ); // [B, P]
    const prunedRows = rowGather(g, prunedIdx, plan.imageIn);
    const dst = recycleDst(g, l2Normalize(g, prunedRows(imageKeys, hd)), l2Normalize(g, keptKeys), keep);
    const pruned = { x: prunedRows(imageX, d), size: prunedRows(imageSize, 1) };
    recycled = recycleRows(g, kept, pruned, dst, keep);
  }
  const imageRule = mergeStyleRule(config.mergeStyle);
  const image = mergeTokens(g, layerMergeDecision(imageRule, plan.imageMergeR), {
    n: keep,
    x: recycled.x,
    metric: imageRule.reads.metric ? keptKeys : null,
    saliency: top.values,
    size: recycled.size,
  });
  // Sizes add up whatever the style's combine: the next layers' attention weighs each token by its size.
  const imageOutSize =
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
    mask: g.concat([textMaskOut, g.squeeze(imageOutSize, [2])], 1),
    trace: { saliency, keepIdx: top.idx, imageDst: image.dst, textDst: text.dst },
  };
}
