import { PumerError } from '@pumer/core';
import type { VqaDetails } from './details.js';
import type { ImageInput } from './image.js';
import {
  type Batching,
  type ClassScore,
  checkQuestion,
  classifyRow,
  openTask,
  type PipelineBase,
  type PipelineOptions,
  pipelineBase,
} from './pipeline-shared.js';

/**
 * The visual entailment pipeline (SNLI-VE; the authors' ViltForVisualEntailment): an image (the premise) and
 * a hypothesis in, contradiction / neutral / entailment out with softmax probabilities. Model, backend,
 * schedule and batching as every task pipeline (pipeline-shared.ts).
 */

export interface VeItem {
  readonly image: ImageInput;
  readonly hypothesis: string;
}

export interface ClassifyOptions {
  /** Also return per-layer token counts and what happened to every patch. */
  readonly details?: boolean;
  /** 'pad' (default) or 'by-size': see `Batching`. */
  readonly batching?: Batching;
}

export interface VeResult {
  /** The most probable class: contradiction, neutral or entailment (the checkpoint's label order). */
  readonly label: string;
  readonly probability: number;
  /** Every class, in label order. */
  readonly classes: readonly ClassScore[];
  readonly logits: Float32Array;
  /** The hypothesis had more tokens than the text window and was cut. */
  readonly truncated: boolean;
  readonly details?: VqaDetails;
}

export interface VePipeline extends PipelineBase {
  predict(image: ImageInput, hypothesis: string, options?: ClassifyOptions): Promise<VeResult>;
  predictBatch(items: readonly VeItem[], options?: ClassifyOptions): Promise<VeResult[]>;
}

/** Refuses a VE item that is not {image, hypothesis} with a hypothesis in words; returns the hypothesis. */
export function checkVeItem(item: unknown, i: number, one: boolean): string {
  if (item === null || typeof item !== 'object')
    throw new PumerError('VALUE', `item ${i} must be an object {image, hypothesis}`);
  return checkQuestion(
    (item as { hypothesis?: unknown }).hypothesis,
    one ? 'the hypothesis' : `the hypothesis of item ${i}`,
    'state something about the image',
  );
}

export async function createVePipeline(options: PipelineOptions): Promise<VePipeline> {
  const runner = await openTask(options, 've', 'createVePipeline');
  const { loaded } = runner;
  const labels = loaded.model.labels;

  async function predictBatch(items: readonly VeItem[], opts: ClassifyOptions = {}): Promise<VeResult[]> {
    if (!Array.isArray(items))
      throw new PumerError('VALUE', 'predictBatch takes an array of {image, hypothesis}');
    const one = items.length === 1;
    items.forEach((item, i) => {
      checkVeItem(item, i, one);
    });
    const prepared = items.map((item, i) => ({
      images: [runner.prepare(item.image, `image ${i}`)],
      text: loaded.tokenizer.encode(item.hypothesis),
    }));
    const results: VeResult[] = new Array(items.length);
    await runner.run(
      prepared,
      (batch, out) => {
        batch.forEach(({ index, example }, b) => {
          results[index] = {
            ...classifyRow(out.logits.data, b, labels).classification,
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
    predictBatch,
    async predict(image, hypothesis, opts) {
      const [r] = await predictBatch([{ image, hypothesis }], opts);
      return r;
    },
  } satisfies Omit<VePipeline, keyof PipelineBase>);
}
