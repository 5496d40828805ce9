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

/**
 * A VE batch ready for the model (every model family's VE pipeline prepares its items here): all items are
 * checked first (an array of {image, hypothesis}, each hypothesis in words), then each image goes through
 * `prepare` (given the item's index and whether it is the only one, to name it in errors) and each hypothesis
 * through `encode`.
 */
export function prepareVeItems<Image, Text>(
  items: readonly VeItem[],
  prepare: (image: ImageInput, i: number, one: boolean) => Image,
  encode: (hypothesis: string) => Text,
): { images: Image[]; text: Text }[] {
  if (!Array.isArray(items))
    throw new PumerError('VALUE', 'predictBatch takes an array of {image, hypothesis}');
  const one = items.length === 1;
  const hypotheses = items.map((item: unknown, i) => {
    if (item === null || typeof item !== 'object')
      throw new PumerError('VALUE', `item ${i} must be an object {image, hypothesis}`);
    return checkQuestion(
      (item as { hypothesis?: unknown }).hypothesis,
      one ? 'the hypothesis' : `the hypothesis of item ${i}`,
      'state something about the image',
    );
  });
  return items.map((item, i) => ({ images: [prepare(item.image, i, one)], text: encode(hypotheses[i]) }));
}

export async function createVePipeline(options: PipelineOptions): Promise<VePipeline> {
  const runner = await openTask(options, 've', 'createVePipeline');
  const { loaded } = runner;
  const labels = loaded.model.labels;

  async function predictBatch(items: readonly VeItem[], opts: ClassifyOptions = {}): Promise<VeResult[]> {
    const prepared = prepareVeItems(
      items,
      (image, i) => runner.prepare(image, `image ${i}`),
      (hypothesis) => loaded.tokenizer.encode(hypothesis),
    );
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
