import {
  checkLogits,
  checkQuestion,
  checkRankOptions,
  type ImageInput,
  pipelineBase,
  rankPairs,
  type RankProgress,
  type RankResult,
  rankResult,
  rankScores,
} from '@pumer/vilt';
import type { MeterDetails, MeterPipelineBase, MeterTaskRunner } from './pipeline-shared.js';

/**
 * METER's image-text retrieval pipeline (the authors' MeterForImageAndTextRetrieval: rank_output, Linear(2D, 1)
 * on cls_feats). One pass scores one (text, image) pair, so ranking T texts against I images runs T x I
 * passes: every image is prepared once and every text encoded once, then the pairs run in batches.
 */

export interface MeterScoreResult {
  /** rank_output's logit: higher = better match. */
  readonly score: number;
  readonly truncated: boolean;
  readonly details?: MeterDetails;
}

export interface MeterRankOptions {
  readonly texts: readonly string[];
  readonly images: readonly ImageInput[];
  /** How many matches to list per text and per image (default 5, at most the candidates). */
  readonly topK?: number;
  /** Pairs per model call (default 32). */
  readonly batchSize?: number;
  /** Called after every batch. */
  readonly onProgress?: (progress: RankProgress) => void;
}

export interface MeterRetrievalPipeline extends MeterPipelineBase {
  score(text: string, image: ImageInput, options?: { readonly details?: boolean }): Promise<MeterScoreResult>;
  /** Every pair's score, text-major, and the best matches each way (the shape of @pumer/vilt's rank). */
  rank(options: MeterRankOptions): Promise<RankResult>;
}

const DEFAULT_BATCH_SIZE = 32;

export function meterRetrievalPipeline(runner: MeterTaskRunner): MeterRetrievalPipeline {
  const { loaded } = runner;
  const labels = loaded.model.labels;

  async function score(
    text: string,
    image: ImageInput,
    opts: { readonly details?: boolean } = {},
  ): Promise<MeterScoreResult> {
    const encoded = loaded.tokenizer.encode(checkQuestion(text, 'the text', 'describe the image'));
    const example = { images: [runner.prepare(image, 'image')], text: encoded };
    const results: MeterScoreResult[] = [];
    await runner.run([example], (_batch, out) => {
      checkLogits(out.logits.data, labels);
      results.push({
        score: out.logits.data[0],
        truncated: encoded.truncated,
        ...(opts.details ? { details: runner.details(out) } : {}),
      });
    });
    return results[0];
  }

  async function rank(opts: MeterRankOptions): Promise<RankResult> {
    const { texts, images } = checkRankOptions(opts);
    const encoded = texts.map((t) => loaded.tokenizer.encode(t));
    const prepared = images.map((image, i) => runner.prepare(image, `image ${i}`));
    const collected = rankScores(texts.length, images.length, labels, opts.onProgress);
    await runner.run(
      rankPairs(encoded, prepared),
      (batch, out) => collected.add(batch, out.logits.data),
      opts.batchSize ?? DEFAULT_BATCH_SIZE,
    );
    return rankResult(
      collected.scores,
      encoded.map((e) => e.truncated),
      images.length,
      opts.topK,
    );
  }

  return Object.assign(pipelineBase(runner), { score, rank });
}
