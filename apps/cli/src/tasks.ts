import type { ViltTask } from '@pumer/core';
import { CliError } from './errors.js';

/**
 * What the CLI needs to know about each task a checkpoint's head answers: how it is named, what its text input
 * is, how many images it takes, and the tokens-per-layer view every command prints.
 */

export const TASKS: readonly ViltTask[] = ['vqa', 've', 'nlvr2', 'retrieval'];

export const TASK_TITLES: Readonly<Record<ViltTask, string>> = {
  vqa: 'VQA',
  ve: 'visual entailment',
  nlvr2: 'NLVR2',
  retrieval: 'image-text retrieval',
};

/** What `--text` is for each task. */
export const TEXT_ROLES: Readonly<Record<ViltTask, string>> = {
  vqa: 'question',
  ve: 'hypothesis',
  nlvr2: 'statement',
  retrieval: 'caption',
};

/** Images one example of the task takes (NLVR2: left and right). */
export const TASK_IMAGES: Readonly<Record<ViltTask, number>> = { vqa: 1, ve: 1, nlvr2: 2, retrieval: 1 };

/** Tokens one layer kept (image counts include the image [CLS]). */
export interface LayerTokens {
  layer: number;
  kind: string;
  textIn: number;
  imageIn: number;
  textOut: number;
  imageOut: number;
}

/** The per-layer token counts of a pipeline's details (one image pass). */
export function layerTokens(details: { readonly layers: readonly LayerTokens[] } | undefined): LayerTokens[] {
  return (details?.layers ?? []).map((l) => ({
    layer: l.layer,
    kind: l.kind,
    textIn: l.textIn,
    imageIn: l.imageIn,
    textOut: l.textOut,
    imageOut: l.imageOut,
  }));
}

/**
 * The text of `pumer run` for a checkpoint of `task`, after checking the flags fit it: `--text` for every
 * task, `--question` for VQA only; `images` --image flags (none: VQA's bundled default image).
 */
export function runInputs(
  task: ViltTask,
  architecture: string,
  given: { text?: string; question?: string; images: number; defaultQuestion: string },
): string {
  const what = `this ${architecture} checkpoint (${TASK_TITLES[task]})`;
  const role = TEXT_ROLES[task];
  if (given.question !== undefined && task !== 'vqa')
    throw new CliError(`--question is for VQA checkpoints: give ${what} its ${role} with --text`);
  if (given.question !== undefined && given.text !== undefined && given.question !== given.text)
    throw new CliError('give the question once: --text or --question, not both');
  const want = TASK_IMAGES[task];
  if (given.images !== want && !(task === 'vqa' && given.images === 0)) {
    throw new CliError(
      want === 2
        ? `${what} takes two images: give --image twice (left, then right), got ${given.images}`
        : `${what} takes one image: give --image once, got ${given.images}`,
    );
  }
  const text = given.text ?? given.question;
  if (text !== undefined) return text;
  if (task === 'vqa') return given.defaultQuestion;
  throw new CliError(`${what} needs a text: give its ${role} with --text`);
}
