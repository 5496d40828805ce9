import { MERGE_STYLES, type MergeArgs, type MergeResult, PumerError } from '@pumer/core';
import { diffMerge } from './diff.js';
import { tipMerge } from './tip.js';
import { tomeMerge } from './tome.js';

/** The Merger contract, synchronously: dispatches on `style` after checking what that style reads. */
export function mergeTokens(args: MergeArgs): MergeResult {
  if (args === null || typeof args !== 'object')
    throw new PumerError('VALUE', 'merge arguments must be an object');
  switch (args.style) {
    case 'tip':
      if (!args.metric) throw new PumerError('VALUE', 'tip merge needs a metric [B, n, C]');
      if (!args.saliency) throw new PumerError('VALUE', 'tip merge needs a saliency [B, n]');
      return tipMerge({ x: args.x, metric: args.metric, saliency: args.saliency, r: args.r });
    case 'tome':
      if (!args.metric) throw new PumerError('VALUE', 'tome merge needs a metric [B, n, C]');
      return tomeMerge({
        x: args.x,
        metric: args.metric,
        size: args.size ?? null,
        r: args.r,
        protectFirst: args.protectFirst ?? true,
      });
    case 'diff':
      if (!args.saliency) throw new PumerError('VALUE', 'diff merge needs a saliency [B, n]');
      return diffMerge({ x: args.x, saliency: args.saliency, r: args.r });
    default:
      throw new PumerError(
        'VALUE',
        `unknown merge style ${String(args.style)} (expected one of ${MERGE_STYLES.join(', ')})`,
      );
  }
}
