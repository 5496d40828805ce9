import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FloatTensor, floatTensor, intTensor, type ViltInputs } from '@pumer/core';
import {
  decodeImageFile,
  type LoadedVilt,
  loadEvalSet,
  loadVilt,
  prepareImage,
  stackImages,
} from '@pumer/vilt/node';

/** Test-only access to the tiny checkpoints, the eval set and the reference PyTorch logits (../shared/models). */

export const MODELS_DIR = process.env['PUMER_SHARED_MODELS'] ?? '/work/shared/models';
export const CHECKPOINTS = ['tiny-vilt-shapes', 'tiny-vilt-shapes-pumer'] as const;

const loaded = new Map<string, LoadedVilt>();
export function checkpoint(name: string): LoadedVilt {
  let hit = loaded.get(name);
  if (!hit) {
    hit = loadVilt(join(MODELS_DIR, name));
    loaded.set(name, hit);
  }
  return hit;
}

/** The first `n` eval examples as one batch, with the reference tokenizer's ids and masks. */
export function evalBatch(model: LoadedVilt, n: number): ViltInputs {
  const examples = loadEvalSet(join(MODELS_DIR, 'shapesvqa-eval', 'eval.jsonl')).examples.slice(0, n);
  const t = examples[0].inputIds!.length;
  return {
    inputIds: intTensor(
      examples.flatMap((e) => e.inputIds!),
      [n, t],
    ),
    attentionMask: intTensor(
      examples.flatMap((e) => e.attentionMask!),
      [n, t],
    ),
    pixelValues: stackImages(
      examples.map((e) => prepareImage(decodeImageFile(e.image), model.preprocessor, e.image)),
    ),
  };
}

/** The reference PyTorch logits of the first rows, [rows, labels]. */
export function referenceLogits(model: string, schedule: string, rows: number): FloatTensor {
  const ref = JSON.parse(readFileSync(join(MODELS_DIR, 'reference.json'), 'utf8')) as Record<
    string,
    Record<string, { logits: number[][] }>
  >;
  const all = ref[model][schedule].logits.slice(0, rows);
  return floatTensor(all.flat(), [all.length, all[0].length]);
}

export function maxAbsDiff(a: FloatTensor, b: FloatTensor): number {
  if (a.shape.join() !== b.shape.join()) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}
