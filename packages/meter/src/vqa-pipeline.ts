import { PumerError } from '@pumer/core';
import { checkQuestion, type ImageInput, pipelineBase, rankAnswers, type VqaAnswer } from '@pumer/vilt';
import type { MeterDetails, MeterPipelineBase, MeterTaskRunner } from './pipeline-shared.js';

/**
 * METER's VQA pipeline (the authors' MeterForQuestionAnswering): image + question in, answers ranked by logit
 * out, scored with a sigmoid (the head is trained per answer with binary cross-entropy, as ViLT's).
 */

export interface MeterAnswerOptions {
  /** How many answers to return (default 5, at most the number of labels). */
  readonly topK?: number;
  /** Also return each co-attention step's token counts. */
  readonly details?: boolean;
}

export interface MeterVqaResult {
  /** Best first: { label, score (sigmoid of the logit), logit }. */
  readonly answers: readonly VqaAnswer[];
  /** Every output's logit, in label order. */
  readonly logits: Float32Array;
  /** The question had more tokens than the text window and was cut. */
  readonly truncated: boolean;
  readonly details?: MeterDetails;
}

export interface MeterVqaItem {
  readonly image: ImageInput;
  readonly question: string;
}

export interface MeterVqaPipeline extends MeterPipelineBase {
  answer(image: ImageInput, question: string, options?: MeterAnswerOptions): Promise<MeterVqaResult>;
  answerBatch(items: readonly MeterVqaItem[], options?: MeterAnswerOptions): Promise<MeterVqaResult[]>;
}

export function meterVqaPipeline(runner: MeterTaskRunner): MeterVqaPipeline {
  const { loaded } = runner;
  const labels = loaded.model.labels;

  async function answerBatch(
    items: readonly MeterVqaItem[],
    opts: MeterAnswerOptions = {},
  ): Promise<MeterVqaResult[]> {
    if (!Array.isArray(items))
      throw new PumerError('VALUE', 'answerBatch takes an array of {image, question}');
    const topK = Math.max(1, Math.min(Math.floor(opts.topK ?? 5), labels.length));
    const one = items.length === 1;
    const prepared = items.map((item, i) => {
      if (item === null || typeof item !== 'object')
        throw new PumerError('VALUE', `item ${i} must be an object {image, question}`);
      const question = checkQuestion(item.question, one ? 'the question' : `the question of item ${i}`);
      return {
        images: [runner.prepare(item.image, one ? 'image' : `image ${i}`)],
        text: loaded.tokenizer.encode(question),
      };
    });
    const results: MeterVqaResult[] = new Array(items.length);
    await runner.run(prepared, (batch, out) => {
      batch.forEach(({ index, example }, b) => {
        const row = out.logits.data.slice(b * labels.length, (b + 1) * labels.length);
        results[index] = {
          answers: rankAnswers(row, labels, topK),
          logits: row,
          truncated: example.text.truncated,
          ...(opts.details ? { details: runner.details(out) } : {}),
        };
      });
    });
    return results;
  }

  return Object.assign(pipelineBase(runner), {
    answerBatch,
    async answer(image: ImageInput, question: string, opts?: MeterAnswerOptions) {
      const [r] = await answerBatch([{ image, question }], opts);
      return r;
    },
  });
}
