import { type Classification, classifyRow, type ImageInput, pipelineBase, prepareVeItems } from '@pumer/vilt';
import type { MeterDetails, MeterPipelineBase, MeterTaskRunner } from './pipeline-shared.js';

/**
 * METER's visual entailment pipeline (the authors' MeterForVisualEntailment): an image (the premise) and a
 * hypothesis in, contradiction / neutral / entailment out with softmax probabilities.
 */

export interface MeterClassifyOptions {
  /** Also return each co-attention step's token counts. */
  readonly details?: boolean;
}

/** The most probable class (contradiction, neutral or entailment), every class and the logits. */
export interface MeterVeResult extends Classification {
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
    const prepared = prepareVeItems(
      items,
      (image, i, one) => runner.prepare(image, one ? 'image' : `image ${i}`),
      (hypothesis) => loaded.tokenizer.encode(hypothesis),
    );
    const results: MeterVeResult[] = new Array(items.length);
    await runner.run(prepared, (batch, out) => {
      batch.forEach(({ index, example }, b) => {
        results[index] = {
          ...classifyRow(out.logits.data, b, labels).classification,
          truncated: example.text.truncated,
          ...(opts.details ? { details: runner.details(out) } : {}),
        };
      });
    });
    return results;
  }

  return Object.assign(pipelineBase(runner), {
    predictBatch,
    async predict(image: ImageInput, hypothesis: string, opts?: MeterClassifyOptions) {
      const [r] = await predictBatch([{ image, hypothesis }], opts);
      return r;
    },
  });
}
