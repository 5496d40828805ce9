import { PumerError } from '@pumer/core';
import { type ClassScore, checkQuestion, classScores, type ImageInput } from '@pumer/vilt';
import {
  type MeterDetails,
  type MeterPipelineBase,
  type MeterTaskRunner,
  meterPipelineBase,
} from './pipeline-shared.js';
import type { MeterClassifyOptions } from './ve-pipeline.js';

/**
 * METER's NLVR2 pipeline (the authors' MeterForVisualReasoning): two images and a statement in, true or false
 * out. The model runs one pass per image on the same text (token type 1, then 2; each pass reduces on its own)
 * and classifies their pooled features side by side.
 */

export interface MeterNlvr2Item {
  /** Left, then right: the order the statement refers to. */
  readonly images: readonly [ImageInput, ImageInput];
  readonly statement: string;
}

export interface MeterNlvr2Result {
  /** Whether the statement is true of the pair. */
  readonly value: boolean;
  readonly label: string;
  readonly probability: number;
  readonly classes: readonly ClassScore[];
  readonly logits: Float32Array;
  readonly truncated: boolean;
  /** `passes[0]` for the left image, `passes[1]` for the right. */
  readonly details?: MeterDetails;
}

export interface MeterNlvr2Pipeline extends MeterPipelineBase {
  predict(
    images: readonly [ImageInput, ImageInput],
    statement: string,
    options?: MeterClassifyOptions,
  ): Promise<MeterNlvr2Result>;
  predictBatch(items: readonly MeterNlvr2Item[], options?: MeterClassifyOptions): Promise<MeterNlvr2Result[]>;
}

export function meterNlvr2Pipeline(runner: MeterTaskRunner): MeterNlvr2Pipeline {
  const { loaded } = runner;
  const labels = loaded.model.labels;
  // The output that means "true": the label spelled true (any case), else output 1 (NLVR2's order).
  const named = labels.findIndex((l) => l.toLowerCase() === 'true');
  const yes = named >= 0 ? named : 1;

  async function predictBatch(
    items: readonly MeterNlvr2Item[],
    opts: MeterClassifyOptions = {},
  ): Promise<MeterNlvr2Result[]> {
    if (!Array.isArray(items))
      throw new PumerError('VALUE', 'predictBatch takes an array of {images: [left, right], statement}');
    const one = items.length === 1;
    const prepared = items.map((item, i) => {
      if (
        item === null ||
        typeof item !== 'object' ||
        !Array.isArray(item.images) ||
        item.images.length !== 2
      )
        throw new PumerError('VALUE', `item ${i} must be an object {images: [left, right], statement}`);
      const statement = checkQuestion(
        item.statement,
        one ? 'the statement' : `the statement of item ${i}`,
        'state something about the two images',
      );
      return {
        images: item.images.map((image: ImageInput, k: number) =>
          runner.prepare(image, one ? `image ${k}` : `image ${k} of item ${i}`),
        ),
        text: loaded.tokenizer.encode(statement),
      };
    });
    const results: MeterNlvr2Result[] = new Array(items.length);
    await runner.run(prepared, (batch, out) => {
      batch.forEach(({ index, example }, b) => {
        const row = out.logits.data.slice(b * labels.length, (b + 1) * labels.length);
        const { classes, best } = classScores(row, labels);
        results[index] = {
          value: best === yes,
          label: classes[best].label,
          probability: classes[best].probability,
          classes,
          logits: row,
          truncated: example.text.truncated,
          ...(opts.details ? { details: runner.details(out) } : {}),
        };
      });
    });
    return results;
  }

  return Object.assign(meterPipelineBase(runner), {
    predictBatch,
    async predict(images: readonly [ImageInput, ImageInput], statement: string, opts?: MeterClassifyOptions) {
      const [r] = await predictBatch([{ images, statement }], opts);
      return r;
    },
  });
}
