import { PumerError } from '@pumer/core';
import { type ClassScore, checkQuestion, classScores, type ImageInput } from '@pumer/vilt';
import {
  type MeterDetails,
  type MeterPipelineBase,
  type MeterTaskRunner,
  meterPipelineBase,
} from './pipeline-shared.js';

/**
 * METER's visual entailment pipeline (the authors' MeterForVisualEntailment): an image (the premise) and a
 * hypothesis in, contradiction / neutral / entailment out with softmax probabilities.
 */

export interface MeterClassifyOptions {
  /** Also return each co-attention step's token counts. */
  readonly details?: boolean;
}

export interface MeterVeResult {
  /** The most probable class (contradiction, neutral or entailment). */
  readonly label: string;
  readonly probability: number;
  /** Every class, in label order. */
  readonly classes: readonly ClassScore[];
  readonly logits: Float32Array;
  /** The hypothesis had more tokens than the text window and was cut. */
  readonly truncated: boolean;
  readonly details?: MeterDetails;
}

export interface MeterVeItem {
  readonly image: ImageInput;
  readonly hypothesis: string;
}

export interface MeterVePipeline extends MeterPipelineBase {
  predict(image: ImageInput, hypothesis: string, options?: MeterClassifyOptions): Promise<MeterVeResult>;
  predictBatch(items: readonly MeterVeItem[], options?: MeterClassifyOptions): Promise<MeterVeResult[]>;
}

export function meterVePipeline(runner: MeterTaskRunner): MeterVePipeline {
  const { loaded } = runner;
  const labels = loaded.model.labels;

  async function predictBatch(
    items: readonly MeterVeItem[],
    opts: MeterClassifyOptions = {},
  ): Promise<MeterVeResult[]> {
    if (!Array.isArray(items))
      throw new PumerError('VALUE', 'predictBatch takes an array of {image, hypothesis}');
    const one = items.length === 1;
    const prepared = items.map((item, i) => {
      if (item === null || typeof item !== 'object')
        throw new PumerError('VALUE', `item ${i} must be an object {image, hypothesis}`);
      const hypothesis = checkQuestion(
        item.hypothesis,
        one ? 'the hypothesis' : `the hypothesis of item ${i}`,
        'state something about the image',
      );
      return {
        images: [runner.prepare(item.image, one ? 'image' : `image ${i}`)],
        text: loaded.tokenizer.encode(hypothesis),
      };
    });
    const results: MeterVeResult[] = new Array(items.length);
    await runner.run(prepared, (batch, out) => {
      batch.forEach(({ index, example }, b) => {
        const row = out.logits.data.slice(b * labels.length, (b + 1) * labels.length);
        const { classes, best } = classScores(row, labels);
        results[index] = {
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
    async predict(image: ImageInput, hypothesis: string, opts?: MeterClassifyOptions) {
      const [r] = await predictBatch([{ image, hypothesis }], opts);
      return r;
    },
  });
}
