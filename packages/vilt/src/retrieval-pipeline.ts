import { PumerError } from '@pumer/core';
import type { VqaDetails } from './details.js';
import type { ImageInput } from './image.js';
import {
  type Batching,
  checkLogits,
  checkQuestion,
  openTask,
  type PipelineBase,
  type PipelineOptions,
  pipelineBase,
} from './pipeline-shared.js';

/**
 * The image-text retrieval pipeline (ViltForImageAndTextRetrieval: rank_output on the pooled output). ViLT
 * scores one (text, image) pair per pass, so ranking T texts against I images runs T x I passes: images are
 * prepared once and every text encoded once, then the pairs run in batches. Model, backend, schedule and
 * batching as every task pipeline (pipeline-shared.ts).
 */

export interface ScoreOptions {
  /** Also return per-layer token counts and what happened to every patch. */
  readonly details?: boolean;
}

export interface ScoreResult {
  /** rank_output's logit: higher = better match. */
  readonly score: number;
  /** The text had more tokens than the text window and was cut. */
  readonly truncated: boolean;
  readonly details?: VqaDetails;
}

export interface RankProgress {
  /** Pairs scored so far, of `total`. */
  readonly done: number;
  readonly total: number;
}

export interface RankOptions {
  readonly texts: readonly string[];
  readonly images: readonly ImageInput[];
  /** How many matches to list per text and per image (default 5, at most the candidates). */
  readonly topK?: number;
  /** Pairs per model call (default 32). */
  readonly batchSize?: number;
  /**
   * 'by-size' (default): pairs whose images share a prepared size run together, so every score equals the
   * pair's own (reduction included); 'pad': all sizes in one padded batch (see `Batching`).
   */
  readonly batching?: Batching;
  /** Called after every batch. */
  readonly onProgress?: (progress: RankProgress) => void;
}

export interface RankedMatch {
  /** Index into the other side's list (images for a text, texts for an image). */
  readonly index: number;
  readonly score: number;
}

export interface RankResult {
  /** Every pair's score, text-major: `scores[t * images + i]`. */
  readonly scores: Float32Array;
  readonly texts: number;
  readonly images: number;
  /** For each text, its best images, best first (ties: lower index first). */
  readonly textToImage: readonly (readonly RankedMatch[])[];
  /** For each image, its best texts, best first (ties: lower index first). */
  readonly imageToText: readonly (readonly RankedMatch[])[];
  /** Texts cut to the text window. */
  readonly truncated: readonly boolean[];
}

export interface RetrievalPipeline extends PipelineBase {
  score(text: string, image: ImageInput, options?: ScoreOptions): Promise<ScoreResult>;
  rank(options: RankOptions): Promise<RankResult>;
}

const DEFAULT_BATCH_SIZE = 32;

/** The `topK` best candidates of `count`, read through `scoreOf`, best first (ties: lower index first). */
function topMatches(count: number, topK: number, scoreOf: (j: number) => number): RankedMatch[] {
  const order = Array.from({ length: count }, (_, j) => j);
  order.sort((a, b) => scoreOf(b) - scoreOf(a) || a - b);
  return order.slice(0, topK).map((index) => ({ index, score: scoreOf(index) }));
}

/**
 * Refuses rank options without a texts and an images array, with no text or no image, or with a text that has
 * no words; returns the two lists (every model family's retrieval pipeline checks them here).
 */
export function checkRankOptions(opts: unknown): {
  readonly texts: readonly string[];
  readonly images: readonly ImageInput[];
} {
  const { texts, images } = (opts ?? {}) as { texts?: unknown; images?: unknown };
  if (opts === null || typeof opts !== 'object' || !Array.isArray(texts) || !Array.isArray(images))
    throw new PumerError('VALUE', 'rank takes {texts: string[], images: ImageInput[], topK?, batchSize?}');
  if (texts.length === 0 || images.length === 0)
    throw new PumerError(
      'VALUE',
      `rank needs at least one text and one image (got ${texts.length} and ${images.length})`,
    );
  texts.forEach((t, i) => {
    checkQuestion(t, `text ${i}`, 'describe an image');
  });
  return { texts, images };
}

/** One (text, image) pair of a rank: its indices into both lists, the encoded text and the prepared image. */
export interface RankPair<Text, Image> {
  readonly t: number;
  readonly i: number;
  readonly text: Text;
  readonly images: readonly [Image];
}

/** Every (text, image) pair, image by image: each image is prepared once and shared by all of its pairs. */
export function rankPairs<Text, Image>(
  texts: readonly Text[],
  images: readonly Image[],
): RankPair<Text, Image>[] {
  const pairs: RankPair<Text, Image>[] = [];
  for (let i = 0; i < images.length; i++)
    for (let t = 0; t < texts.length; t++) pairs.push({ t, i, text: texts[t], images: [images[i]] });
  return pairs;
}

/**
 * Collects a rank's scores, text-major, from each batch of pairs and the batch's rank_output logits (refused
 * when NaN), reporting progress after every batch.
 */
export function rankScores(
  texts: number,
  images: number,
  labels: readonly string[],
  onProgress?: (progress: RankProgress) => void,
): {
  readonly scores: Float32Array;
  add(
    batch: readonly { readonly example: { readonly t: number; readonly i: number } }[],
    logits: Float32Array,
  ): void;
} {
  const scores = new Float32Array(texts * images);
  const total = texts * images;
  let done = 0;
  return {
    scores,
    add(batch, logits) {
      checkLogits(logits, labels);
      batch.forEach(({ example }, b) => {
        scores[example.t * images + example.i] = logits[b];
      });
      done += batch.length;
      onProgress?.({ done, total });
    },
  };
}

/**
 * The rank result of text-major `scores` (`scores[t * images + i]`, one text per entry of `truncated`): the
 * `topK` (default 5, clamped to 1..candidates) best matches each way.
 */
export function rankResult(
  scores: Float32Array,
  truncated: readonly boolean[],
  images: number,
  topK: number | undefined,
): RankResult {
  const texts = truncated.length;
  const k = (n: number) => Math.max(1, Math.min(Math.floor(topK ?? 5), n));
  return {
    scores,
    texts,
    images,
    textToImage: truncated.map((_, t) => topMatches(images, k(images), (i) => scores[t * images + i])),
    imageToText: Array.from({ length: images }, (_, i) =>
      topMatches(texts, k(texts), (t) => scores[t * images + i]),
    ),
    truncated,
  };
}

export async function createRetrievalPipeline(options: PipelineOptions): Promise<RetrievalPipeline> {
  const runner = await openTask(options, 'retrieval', 'createRetrievalPipeline');
  const { loaded } = runner;
  const labels = loaded.model.labels;

  async function score(text: string, image: ImageInput, opts: ScoreOptions = {}): Promise<ScoreResult> {
    checkQuestion(text, 'the text', 'describe the image');
    const example = { images: [runner.prepare(image, 'image')], text: loaded.tokenizer.encode(text) };
    let result: ScoreResult | undefined;
    await runner.run([example], (_batch, out) => {
      checkLogits(out.logits.data, labels);
      result = {
        score: out.logits.data[0],
        truncated: example.text.truncated,
        ...(opts.details ? { details: runner.details(out, 0, example)[0] } : {}),
      };
    });
    if (!result) throw new PumerError('BACKEND', 'the backend returned no score');
    return result;
  }

  async function rank(opts: RankOptions): Promise<RankResult> {
    const { texts, images } = checkRankOptions(opts);
    const encoded = texts.map((t) => loaded.tokenizer.encode(t));
    // Each image is decoded and prepared once, then shared by all of its pairs.
    const prepared = images.map((image, i) => runner.prepare(image, `image ${i}`));
    const collected = rankScores(texts.length, images.length, labels, opts.onProgress);
    await runner.run(rankPairs(encoded, prepared), (batch, out) => collected.add(batch, out.logits.data), {
      batching: opts.batching ?? 'by-size',
      batchSize: opts.batchSize ?? DEFAULT_BATCH_SIZE,
    });
    return rankResult(
      collected.scores,
      encoded.map((e) => e.truncated),
      images.length,
      opts.topK,
    );
  }

  return Object.assign(pipelineBase(runner), {
    score,
    rank,
  } satisfies Omit<RetrievalPipeline, keyof PipelineBase>);
}
