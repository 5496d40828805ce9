import type { ClassifierHead, RankHead, ViltGeometry, ViltHead, ViltTask } from '@pumer/core';
import { PumerError } from '@pumer/core';
import { describeValue } from './json-value.js';
import type { TensorSource } from './weights.js';

/**
 * ViLT's task heads as checkpoints store them: which class answers which task, where its tensors are, and
 * what its outputs mean. Both layouts map onto core's ViltHead (a classifier or rank_output) here.
 */

/** The classifier's LayerNorm is built with PyTorch's default eps, not config.layer_norm_eps. */
export const CLASSIFIER_NORM_EPS = 1e-5;

/** The Hugging Face class of each task (VE has none: pumer convert writes it as a VQA-shaped head, below). */
export const HF_TASK_ARCHITECTURES: Readonly<Record<ViltTask, string>> = {
  vqa: 'ViltForQuestionAnswering',
  ve: 'ViltForQuestionAnswering',
  nlvr2: 'ViltForImagesAndTextClassification',
  retrieval: 'ViltForImageAndTextRetrieval',
};

/**
 * config.json field naming the task of a Hugging Face layout checkpoint whose class does not say it: visual
 * entailment has no Hugging Face class, so `pumer convert` writes the authors' ViltForVisualEntailment as a
 * ViltForQuestionAnswering (the same Linear(D, 2D) -> LayerNorm -> GELU -> Linear head, 3 outputs) with
 * `"pumer_task": "ve"`, and the loader reads it back as a VE head (softmax over the classes, not VQA's sigmoid).
 */
export const PUMER_TASK_FIELD = 'pumer_task';

/** The outputs of the tasks whose outputs are fixed (the authors' label order; retrieval: one score). */
export const TASK_LABELS: Readonly<Partial<Record<ViltTask, readonly string[]>>> = {
  ve: ['contradiction', 'neutral', 'entailment'],
  nlvr2: ['False', 'True'],
  retrieval: ['score'],
};

/** The task of a Hugging Face layout checkpoint from its class (and `pumer_task`). */
export function hfTask(c: Record<string, unknown>, architecture: string, source: string): ViltTask {
  const tasks = Object.entries(HF_TASK_ARCHITECTURES).filter(([, a]) => a === architecture);
  if (tasks.length === 0) {
    const known = [...new Set(Object.values(HF_TASK_ARCHITECTURES))].join(', ');
    throw new PumerError(
      'CONFIG',
      `${source}: field "architectures" names ${describeValue(architecture)}, not a ViLT head read here (${known})`,
    );
  }
  const named = c[PUMER_TASK_FIELD];
  if (named === undefined) return tasks[0][0] as ViltTask;
  const match = tasks.find(([t]) => t === named);
  if (!match) {
    throw new PumerError(
      'CONFIG',
      `${source}: field "${PUMER_TASK_FIELD}" must be ${tasks.map(([t]) => `"${t}"`).join(' or ')} for a ${architecture}, got ${describeValue(named)}`,
    );
  }
  return match[0] as ViltTask;
}

/** Where a checkpoint keeps its head: `{prefix}.{0,1,3}` for a classifier, `{prefix}` for rank_output. */
export interface HeadLocation {
  readonly task: ViltTask;
  readonly prefix: string;
}

/** The head's kind for a task: retrieval scores pairs with rank_output, the others classify. */
export function headKind(task: ViltTask): ViltHead['kind'] {
  return task === 'retrieval' ? 'rank' : 'classifier';
}

/**
 * The head's tensors, shapes checked against the geometry: a classifier Linear(K, W) -> LayerNorm(W, eps
 * 1e-5) -> GELU -> Linear(W, numLabels) with K = numImages * D and W = 2D for one image (VQA, VE), K for
 * several (NLVR2: Hugging Face's Linear(D * num_images, D * num_images)); or rank_output Linear(D, 1).
 */
export function headWeights(src: TensorSource, at: HeadLocation, geometry: ViltGeometry): ViltHead {
  const d = geometry.hiddenSize;
  if (headKind(at.task) === 'rank') {
    const head: RankHead = { kind: 'rank', rank: src.linear(at.prefix, 1, d) };
    return head;
  }
  const inDim = geometry.numImages * d;
  const width = geometry.numImages === 1 ? 2 * d : inDim;
  const head: ClassifierHead = {
    kind: 'classifier',
    fc1: src.linear(`${at.prefix}.0`, width, inDim),
    norm: src.norm(`${at.prefix}.1`, width, CLASSIFIER_NORM_EPS),
    fc2: src.linear(`${at.prefix}.3`, geometry.numLabels, width),
  };
  return head;
}
