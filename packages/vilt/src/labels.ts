import { PumerError } from '@pumer/core';
import { describeValue } from './json-value.js';

/**
 * Answer labels kept outside config.json. The PuMer authors' VQA checkpoints carry no `id2label`: their
 * answers come from the dataset's `vqa2_label2ans.json`, a JSON list (index -> answer).
 */

/** Where the authors' datasets keep the VQA answer list, relative to a data root. */
export const AUTHORS_VQA_LABEL_FILE = 'datasets/vqa2/vqa2_label2ans.json';

/** Checks a label list (index -> answer): a non-empty array of strings. `source` names it in errors. */
export function parseLabelList(json: unknown, source: string): string[] {
  if (!Array.isArray(json)) {
    const hint =
      json !== null && typeof json === 'object'
        ? ' (an object is the answer -> index form, vqa2_ans2label.json; the list form is vqa2_label2ans.json)'
        : '';
    throw new PumerError('CHECKPOINT', `${source}: labels must be a JSON list of answers${hint}`);
  }
  if (json.length === 0) throw new PumerError('CHECKPOINT', `${source}: the label list is empty`);
  json.forEach((label, i) => {
    if (typeof label !== 'string')
      throw new PumerError(
        'CHECKPOINT',
        `${source}: label ${i} must be a string, got ${describeValue(label)}`,
      );
  });
  return json as string[];
}
