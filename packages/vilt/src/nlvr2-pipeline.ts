import { PumerError } from '@pumer/core';
import type { VqaDetails } from './details.js';
import type { ImageInput } from './image.js';
import {
  type ClassScore,
  checkQuestion,
  classifyRow,
  openTask,
  type PipelineBase,
  type PipelineOptions,
  pipelineBase,
} from './pipeline-shared.js';
import type { ClassifyOptions } from './ve-pipeline.js';

/**
 * The NLVR2 pipeline (Hugging Face ViltForImagesAndTextClassification, the authors' ViltForVisualReasoning):
 * two images and a statement in, true or false out. Each image is prepared with the checkpoint's transform
 * and the pair is padded together with a pixel mask [B, 2, H, W], as Hugging Face's processor does; the model
 * runs one pass per image (each reduced on its own) and classifies their pooled outputs side by side. Model,
 * backend, schedule and batching as every task pipeline (pipeline-shared.ts).
 */

export interface Nlvr2Item {
  /** Left, then right: the order the statement refers to. */
  readonly images: readonly [ImageInput, ImageInput];
  readonly statement: string;
}

export interface Nlvr2Result {
  /** Whether the statement is true of the pair. */
  readonly value: boolean;
  /** The label of the answer (the checkpoint's: "True" / "False"). */
  readonly label: string;
  readonly probability: number;
  /** Every class, in label order. */
  readonly classes: readonly ClassScore[];
  readonly logits: Float32Array;
  /** The statement had more tokens than the text window and was cut. */
  readonly truncated: boolean;
  /** Per image, in order: what its own pass did to its tokens. */
  readonly details?: { readonly images: readonly VqaDetails[] };
}

export interface Nlvr2Pipeline extends PipelineBase {
  predict(
    images: readonly [ImageInput, ImageInput],
    statement: string,
    options?: ClassifyOptions,
  ): Promise<Nlvr2Result>;
  predictBatch(items: readonly Nlvr2Item[], options?: ClassifyOptions): Promise<Nlvr2Result[]>;
}

/** The output that means "true": the label spelled true (any case), else output 1 (NLVR2's order). */
export function nlvr2TrueIndex(labels: readonly string[]): number {
  const named = labels.findIndex((l) => l.toLowerCase() === 'true');
  return named >= 0 ? named : 1;
}

/**
 * An NLVR2 batch ready for the model (every model family's NLVR2 pipeline prepares its items here): all items
 * are checked first (an array of {images: [left, right], statement}, each statement in words), then each image
 * goes through `prepare` with the name errors give it and each statement through `encode`.
 */
export function prepareNlvr2Items<Image, Text>(
  items: readonly Nlvr2Item[],
  prepare: (image: ImageInput, source: string) => Image,
  encode: (statement: string) => Text,
): { images: Image[]; text: Text }[] {
  if (!Array.isArray(items))
    throw new PumerError('VALUE', 'predictBatch takes an array of {images: [left, right], statement}');
  const one = items.length === 1;
  const statements = items.map((item: unknown, i) => {
    const images = (item as { images?: unknown } | null)?.images;
    if (item === null || typeof item !== 'object' || !Array.isArray(images) || images.length !== 2)
      throw new PumerError('VALUE', `item ${i} must be an object {images: [left, right], statement}`);
    return checkQuestion(
      (item as { statement?: unknown }).statement,
      one ? 'the statement' : `the statement of item ${i}`,
      'state something about the two images',
    );
  });
  return items.map((item, i) => ({
    images: item.images.map((image: ImageInput, k: number) =>
      prepare(image, one ? `image ${k}` : `image ${k} of item ${i}`),
    ),
    text: encode(statements[i]),
  }));
}

export async function createNlvr2Pipeline(options: PipelineOptions): Promise<Nlvr2Pipeline> {
  const runner = await openTask(options, 'nlvr2', 'createNlvr2Pipeline');
  const { loaded } = runner;
  const labels = loaded.model.labels;
  const yes = nlvr2TrueIndex(labels);

  async function predictBatch(
    items: readonly Nlvr2Item[],
    opts: ClassifyOptions = {},
  ): Promise<Nlvr2Result[]> {
    const prepared = prepareNlvr2Items(items, runner.prepare, (statement) =>
      loaded.tokenizer.encode(statement),
    );
    const results: Nlvr2Result[] = new Array(items.length);
    await runner.run(
      prepared,
      (batch, out) => {
        batch.forEach(({ index, example }, b) => {
          const { classification, best } = classifyRow(out.logits.data, b, labels);
          results[index] = {
            value: best === yes,
            ...classification,
            truncated: example.text.truncated,
            ...(opts.details ? { details: { images: runner.details(out, b, example) } } : {}),
          };
        });
      },
      { batching: opts.batching },
    );
    return results;
  }

  return Object.assign(pipelineBase(runner), {
    predictBatch,
    async predict(images, statement, opts) {
      const [r] = await predictBatch([{ images, statement }], opts);
      return r;
    },
  } satisfies Omit<Nlvr2Pipeline, keyof PipelineBase>);
}
