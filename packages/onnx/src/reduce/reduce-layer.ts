import {
  layerMergeDecision,
  type LayerPlan,
  MERGE_STYLE_RULES,
  mergeStyleRule,
  type ReductionConfig,
  saliencyRule,
} from '@pumer/core';
import type { GraphBuilder } from '../builder.js';
import { mergeTokens, mergeTokensWithMask } from './merge.js';
import { rowGather } from './rows.js';
import { selectTop } from './prune.js';
import { saliencyScores } from './saliency.js';
import { trainingFreeReduce } from './training-free.js';

/**
 * The reduce step of one block (docs/reducers.md, "The layer plan"), twin of @pumer/backend-cpu's
 * `reduceLayer`: what it does comes from core's layer plan, how from core's rule tables.
 */

/** Trace values a reducing layer produces (graph value names; indices in float until the caller casts). */
export interface BlockTrace {
  readonly saliency?: string; // [B, I]
  readonly keepIdx?: string; // [B, keep]
  readonly imageDst?: string; // [B, keep]
  readonly textDst?: string; // [B, T]
  readonly tokenDst?: string; // [B, N]
}

/** A block's values between attention and MLP. */
export interface LayerTokens {
  /** States [B, N, D]. */
  readonly x: string;
  /** Mask [B, N]. */
  readonly mask: string;
  /** Attention probabilities [B, H, N, N]. */
  readonly attn: string;
  /** Their text rows' attention to the image tokens [B, H, T, I], when the block sliced it already. */
  readonly textToImage?: string;
  /**
   * Keys and (scaled) queries averaged over heads [B, N, hd], when the block took them early: then the
   * [B, N, H, hd] keys and queries are freed by the attention product instead of living into the reduce step.
   */
  readonly kbar?: string;
  readonly qbar?: string;
  /** Per-head queries (scaled by `scale`) and keys [B, N, H, hd]. */
  readonly q: string;
  readonly k: string;
  /** The factor folded into the queries (1/sqrt(hd)). */
  readonly scale: number;
  /** Hidden size D and head size hd (the widths of x and of kbar). */
  readonly d: number;
  readonly hd: number;
}

/**
 * PuMer's reduce step as the plan says: `pumer` prunes the image tokens by text saliency, merges the kept ones
 * in the schedule's style and merges the text with ToMe; the `tome` baseline merges all tokens with ToMe;
 * `none` passes them through.
 */
export function reduceLayer(
  g: GraphBuilder,
  plan: LayerPlan,
  config: ReductionConfig | null,
  tokens: LayerTokens,
): { x: string; mask: string; trace: BlockTrace } {
  const { x, mask } = tokens;
  if (plan.kind === 'none' || config === null) return { x, mask, trace: {} };
  const n = plan.textIn + plan.imageIn;
  const kbar = tokens.kbar ?? g.reduce('ReduceMean', tokens.k, [2], false); // [B, N, hd]
  if (plan.kind === 'pumer' && config.trainingFree) return trainingFreeReduce(g, plan, config, tokens, kbar);
  if (plan.kind === 'pumer') {
    const t = plan.textIn;
    const rule = saliencyRule(config.saliency);
    // The queries carry the folded scale; undo it where the rule reads them.
    const qbar =
      rule.textSide === 'queries'
        ? g.mul(tokens.qbar ?? g.reduce('ReduceMean', tokens.q, [2], false), g.float(1 / tokens.scale))
        : undefined;
    const textMask = g.slice(mask, 1, 0, t);
    const saliency = saliencyScores(
      g,
      rule,
      { attn: tokens.attn, textToImage: tokens.textToImage, kbar, qbar, textMask },
      t,
      n,
    );
    const top = selectTop(g, saliency, plan.imageIn, plan.keep);
    const kept = rowGather(g, top.idx, plan.imageIn);
    const imageRule = mergeStyleRule(config.mergeStyle);
    const d = tokens.d;
    const image = mergeTokens(g, layerMergeDecision(imageRule, plan.imageMergeR), {
      n: plan.keep,
      x: kept(g.slice(x, 1, t, n), d), // [B, keep, D]
      metric: imageRule.reads.metric ? kept(g.slice(kbar, 1, t, n), tokens.hd) : null,
      saliency: top.values,
      size: null,
    });
    const text = mergeTokensWithMask(
      g,
      layerMergeDecision(MERGE_STYLE_RULES.tome, plan.textMergeR),
      { n: t, x: g.slice(x, 1, 0, t), metric: g.slice(kbar, 1, 0, t), saliency: null, size: null },
      textMask,
    );
    return {
      x: g.concat([text.x, image.x], 1),
      mask: g.pad(text.mask, 2, 1, 0, plan.imageOut, 1),
      trace: { saliency, keepIdx: top.idx, imageDst: image.dst, textDst: text.dst },
    };
  }
  // The ToMe baseline: ToMe over all N tokens on Kbar, token 0 protected, states and mask size-weighted.
  const merged = mergeTokensWithMask(
    g,
    layerMergeDecision(MERGE_STYLE_RULES.tome, plan.tomeR),
    { n, x, metric: kbar, saliency: null, size: null },
    mask,
  );
  return { x: merged.x, mask: merged.mask, trace: { tokenDst: merged.dst } };
}
