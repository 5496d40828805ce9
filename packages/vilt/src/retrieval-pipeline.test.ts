import { describe, expect, it } from 'vitest';
import type { RankProgress } from './retrieval-pipeline.js';
import { checkRankOptions, rankPairs, rankResult, rankScores } from './retrieval-pipeline.js';

describe('rank helpers (shared by the ViLT and METER retrieval pipelines)', () => {
  it('checkRankOptions refuses a malformed call, an empty side and a text with no words', () => {
    expect(() => checkRankOptions(null)).toThrow(/rank takes \{texts/);
    expect(() => checkRankOptions({ texts: 'a', images: [] })).toThrow(/rank takes \{texts/);
    expect(() => checkRankOptions({ texts: ['a'], images: [] })).toThrow(/got 1 and 0/);
    expect(() => checkRankOptions({ texts: ['a', ' '], images: [new Uint8Array(1)] })).toThrow(
      /text 1 is empty: describe an image/,
    );
    const images = [new Uint8Array(1)];
    expect(checkRankOptions({ texts: ['a'], images })).toEqual({ texts: ['a'], images });
  });

  it('rankPairs lists every pair image by image, sharing each image', () => {
    const pairs = rankPairs(['x', 'y'], ['A', 'B']);
    expect(pairs.map((p) => `${p.text}${p.images[0]}`)).toEqual(['xA', 'yA', 'xB', 'yB']);
    expect(pairs.map((p) => [p.t, p.i])).toEqual([
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
    ]);
  });

  it('rankScores stores each batch text-major, reports progress and refuses NaN logits', () => {
    const progress: RankProgress[] = [];
    const collected = rankScores(2, 3, ['score'], (p) => progress.push(p));
    collected.add([{ example: { t: 1, i: 2 } }, { example: { t: 0, i: 1 } }], Float32Array.of(5, 7));
    expect(Array.from(collected.scores)).toEqual([0, 7, 0, 0, 0, 5]);
    expect(progress).toEqual([{ done: 2, total: 6 }]);
    expect(() => collected.add([{ example: { t: 0, i: 0 } }], Float32Array.of(Number.NaN))).toThrow(/NaN/);
  });

  it('rankResult lists the best matches each way, ties to the lower index, topK clamped', () => {
    // 2 texts x 3 images, text-major.
    const scores = Float32Array.of(1, 3, 3, 0, -1, 2);
    const result = rankResult(scores, [false, true], 3, 2);
    expect(result.texts).toBe(2);
    expect(result.images).toBe(3);
    expect(result.textToImage).toEqual([
      [
        { index: 1, score: 3 },
        { index: 2, score: 3 },
      ],
      [
        { index: 2, score: 2 },
        { index: 0, score: 0 },
      ],
    ]);
    expect(result.imageToText[2]).toEqual([
      { index: 0, score: 3 },
      { index: 1, score: 2 },
    ]);
    expect(result.truncated).toEqual([false, true]);
    expect(rankResult(scores, [false, false], 3, 0).textToImage[0]).toHaveLength(1);
    expect(rankResult(scores, [false, false], 3, undefined).textToImage[0]).toHaveLength(3);
  });
});
