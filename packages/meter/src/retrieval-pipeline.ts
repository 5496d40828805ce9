import { PumerError } from '@pumer/core';
import {
  checkLogits,
  checkQuestion,
  type ImageInput,
  type RankedMatch,
  type RankProgress,
  type RankResult,
} from '@pumer/vilt';
import {
  type MeterDetails,
  type MeterPipelineBase,
  type MeterTaskRunner,
  meterPipelineBase,
  type PreparedMeterExample,
} from './pipeline-shared.js';

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

/** The `topK` best of `count` candidates, best first (ties: lower index first). */
function topMatches(count: number, topK: number, scoreOf: (j: number) => number): RankedMatch[] {
  const order = Array.from({ length: count }, (_, j) => j);
  order.sort((a, b) => scoreOf(b) - scoreOf(a) || a - b);
  return order.slice(0, topK).map((index) => ({ index, score: scoreOf(index) }));
}

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
    if (
      opts === null ||
      typeof opts !== 'object' ||
      !Array.isArray(opts.texts) ||
      !Array.isArray(opts.images)
    )
      throw new PumerError('VALUE', 'rank takes {texts: string[], images: ImageInput[], topK?, batchSize?}');
    const { texts, images } = opts;
    if (texts.length === 0 || images.length === 0)
      throw new PumerError(
        'VALUE',
        `rank needs at least one text and one image (got ${texts.length} and ${images.length})`,
      );
    const encoded = texts.map((t, i) =>
      loaded.tokenizer.encode(checkQuestion(t, `text ${i}`, 'describe an image')),
    );
    const prepared = images.map((image, i) => runner.prepare(image, `image ${i}`));
    const pairs: (PreparedMeterExample & { t: number; i: number })[] = [];
    for (let i = 0; i < images.length; i++)
      for (let t = 0; t < texts.length; t++) pairs.push({ t, i, text: encoded[t], images: [prepared[i]] });
    const I = images.length;
    const scores = new Float32Array(texts.length * I);
    let done = 0;
    await runner.run(
      pairs,
      (batch, out) => {
        checkLogits(out.logits.data, labels);
        batch.forEach(({ example }, b) => {
          scores[example.t * I + example.i] = out.logits.data[b];
        });
        done += batch.length;
        opts.onProgress?.({ done, total: pairs.length });
      },
      opts.batchSize ?? DEFAULT_BATCH_SIZE,
    );
    const topK = (n: number) => Math.max(1, Math.min(Math.floor(opts.topK ?? 5), n));
    return {
      scores,
      texts: texts.length,
      images: I,
      textToImage: encoded.map((_, t) => topMatches(I, topK(I), (i) => scores[t * I + i])),
      imageToText: prepared.map((_, i) =>
        topMatches(texts.length, topK(texts.length), (t) => scores[t * I + i]),
      ),
      truncated: encoded.map((e) => e.truncated),
    };
  }

  return Object.assign(meterPipelineBase(runner), { score, rank });
}
