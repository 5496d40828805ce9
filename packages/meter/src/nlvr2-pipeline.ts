import {
  type Classification,
  classifyRow,
  type ImageInput,
  nlvr2TrueIndex,
  pipelineBase,
  prepareNlvr2Items,
} from '@pumer/vilt';
import type { MeterDetails, MeterPipelineBase, MeterTaskRunner } from './pipeline-shared.js';
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

export interface MeterNlvr2Result extends Classification {
  /** Whether the statement is true of the pair. */
  readonly value: boolean;
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
  const yes = nlvr2TrueIndex(labels);

  async function predictBatch(
    items: readonly MeterNlvr2Item[],
    opts: MeterClassifyOptions = {},
  ): Promise<MeterNlvr2Result[]> {
    const prepared = prepareNlvr2Items(items, runner.prepare, (statement) =>
      loaded.tokenizer.encode(statement),
    );
    const results: MeterNlvr2Result[] = new Array(items.length);
    await runner.run(prepared, (batch, out) => {
      batch.forEach(({ index, example }, b) => {
        const { classification, best } = classifyRow(out.logits.data, b, labels);
        results[index] = {
          value: best === yes,
          ...classification,
          truncated: example.text.truncated,
          ...(opts.details ? { details: runner.details(out) } : {}),
        };
      });
    });
    return results;
  }

  return Object.assign(pipelineBase(runner), {
    predictBatch,
    async predict(images: readonly [ImageInput, ImageInput], statement: string, opts?: MeterClassifyOptions) {
      const [r] = await predictBatch([{ images, statement }], opts);
      return r;
    },
  });
}
