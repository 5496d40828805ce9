import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ReductionConfig } from '@pumer/core';

/** Shared data of the integration tests: the shared golden vectors, tiny checkpoints and eval set. */
export const SHARED = process.env['PUMER_SHARED'] ?? '/work/shared';
export const GOLDEN_DIR = join(SHARED, 'golden');
export const MODELS_DIR = join(SHARED, 'models');
export const EVAL_JSONL = join(MODELS_DIR, 'shapesvqa-eval', 'eval.jsonl');
export const MODEL_NAMES = ['tiny-vilt-shapes', 'tiny-vilt-shapes-pumer'] as const;

/** Examples per model-parity batch: 2 keeps the batch dimension honest; SwiftShader makes every row costly. */
export const PARITY_BATCH = 2;

export function goldenFiles(): string[] {
  return readdirSync(GOLDEN_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

/** The brief's schedules for model parity (reference.json "about"). */
export const SCHEDULES: readonly { readonly name: string; readonly config: ReductionConfig | null }[] = [
  { name: 'unreduced', config: null },
  {
    name: 'pumer',
    config: {
      reduceLayers: [1, 3],
      pruneRatio: 0.1,
      mergeRatio: 0.3,
      textMergeRatio: 0.2,
      saliency: 'first_head',
      mergeStyle: 'tip',
    },
  },
  {
    name: 'aggressive',
    config: {
      reduceLayers: [0, 2, 4],
      pruneRatio: 0.3,
      mergeRatio: 0.5,
      textMergeRatio: 0.2,
      saliency: 'first_head',
      mergeStyle: 'tip',
    },
  },
];
