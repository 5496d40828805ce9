import { PumerError } from '@pumer/core';
import type { VqaDetails } from './details.js';
import type { ImageInput } from './image.js';
import {
  type Batching,
  checkLogits,
  checkQuestion,
  openTask,
  type PipelineBase,
  type PipelineInfo,
  type PipelineOptions,
  pipelineBase,
} from './pipeline-shared.js';

/**
 * The VQA pipeline: image + question in, ranked answers out, on any registered backend and with any
 * schedule. Images of different prepared sizes run as one batch padded to the largest with a pixel mask
 * (`padImages`), as Hugging Face's processor does; `batching: 'by-size'` runs one unpadded batch per size.
 * Model, backend, schedule and batching are shared with the other tasks' pipelines (pipeline-shared.ts).
 */

/** The options of every task pipeline (pipeline-shared.ts). */
export type VqaPipelineOptions = PipelineOptions;

export interface AnswerOptions {
  /** How many answers to return (default 5, at most the number of labels). */
  readonly topK?: number;
  /** Also return per-layer token counts and what happened to every patch. */
  readonly details?: boolean;
  /**
   * 'pad' (default) or 'by-size' (see `Batching`): 'by-size' keeps every image's reduction independent of the
   * others of a different size, at the cost of more, smaller batches.
   */
  readonly batching?: Batching;
}

export interface VqaAnswer {
  readonly label: string;
  /** sigmoid(logit): ViLT's VQA head is trained with per-answer binary cross-entropy. */
  readonly score: number;
  readonly logit: number;
}

export interface VqaResult {
  /** Best first. */
  readonly answers: readonly VqaAnswer[];
  /** Every output's logit, in the checkpoint's label order (`loaded.model.labels`). */
  readonly logits: Float32Array;
  /** The question had more tokens than the text window and was cut. */
  readonly truncated: boolean;
  readonly details?: VqaDetails;
}

export interface VqaItem {
  readonly image: ImageInput;
  readonly question: string;
}

/** Which backend runs the pipeline and why, what it reduces with, which model and task. */
export type VqaPipelineInfo = PipelineInfo;

export interface VqaPipeline extends PipelineBase {
  answer(image: ImageInput, question: string, options?: AnswerOptions): Promise<VqaResult>;
  answerBatch(items: readonly VqaItem[], options?: AnswerOptions): Promise<VqaResult[]>;
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * Labels ranked by logit, best first (ties: lower label index first). A NaN logit has no rank: it means the
 * model computed garbage (non-finite weights or an overflow), so the output is refused rather than ranked.
 * Infinite logits rank as the extremes they are.
 */
export function rankAnswers(logits: Float32Array, labels: readonly string[], topK: number): VqaAnswer[] {
  checkLogits(logits, labels);
  const order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b);
  return order.slice(0, topK).map((i) => ({ label: labels[i], score: sigmoid(logits[i]), logit: logits[i] }));
}

export async function createVqaPipeline(options: VqaPipelineOptions): Promise<VqaPipeline> {
  const runner = await openTask(options, 'vqa', 'createVqaPipeline');
  const { loaded } = runner;
  const labels = loaded.model.labels;

  async function answerBatch(items: readonly VqaItem[], opts: AnswerOptions = {}): Promise<VqaResult[]> {
    if (!Array.isArray(items))
      throw new PumerError('VALUE', 'answerBatch takes an array of {image, question}');
    const topK = Math.max(1, Math.min(Math.floor(opts.topK ?? 5), labels.length));
    const one = items.length === 1;
    items.forEach((item, i) => {
      if (item === null || typeof item !== 'object')
        throw new PumerError('VALUE', `item ${i} must be an object {image, question}`);
      checkQuestion(item.question, one ? 'the question' : `the question of item ${i}`);
    });
    const prepared = items.map((item, i) => ({
      images: [runner.prepare(item.image, `image ${i}`)],
      text: loaded.tokenizer.encode(item.question),
    }));
    const results: VqaResult[] = new Array(items.length);
    await runner.run(
      prepared,
      (batch, out) => {
        batch.forEach(({ index, example }, b) => {
          const row = out.logits.data.subarray(b * labels.length, (b + 1) * labels.length);
          results[index] = {
            answers: rankAnswers(row, labels, topK),
            logits: row.slice(),
            truncated: example.text.truncated,
            ...(opts.details ? { details: runner.details(out, b, example)[0] } : {}),
          };
        });
      },
      { batching: opts.batching },
    );
    return results;
  }

  return Object.assign(pipelineBase(runner), {
    answerBatch,
    async answer(image, question, opts) {
      const [r] = await answerBatch([{ image, question }], opts);
      return r;
    },
  } satisfies Omit<VqaPipeline, keyof PipelineBase>);
}
