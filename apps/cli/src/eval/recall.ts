/**
 * Recall@K of a square retrieval score matrix whose diagonal holds the true pairs (caption i describes image
 * i): the share of texts whose own image ranks in their top K images, and of images whose own text ranks in
 * their top K texts. Ties count against the true pair (as the reference figures are computed): its rank is
 * the number of other candidates scoring at least as high.
 */

export interface RecallAtK {
  readonly r1: number;
  readonly r5: number;
  readonly r10: number;
}

export interface Recall {
  /** Text → image: for each text, is its image among the best K? */
  readonly textToImage: RecallAtK;
  /** Image → text: for each image, is its text among the best K? */
  readonly imageToText: RecallAtK;
}

/** `scores[t * n + i]` for n texts × n images. */
export function retrievalRecall(scores: ArrayLike<number>, n: number): Recall {
  if (scores.length !== n * n) throw new Error(`expected ${n}×${n} scores, got ${scores.length}`);
  const t2i: number[] = [];
  const i2t: number[] = [];
  for (let k = 0; k < n; k++) {
    const own = scores[k * n + k]!;
    let textRank = 0;
    let imageRank = 0;
    for (let j = 0; j < n; j++) {
      if (j === k) continue;
      if (scores[k * n + j]! >= own) textRank++;
      if (scores[j * n + k]! >= own) imageRank++;
    }
    t2i.push(textRank);
    i2t.push(imageRank);
  }
  const at = (ranks: number[], K: number) => ranks.filter((r) => r < K).length / n;
  const recall = (ranks: number[]): RecallAtK => ({ r1: at(ranks, 1), r5: at(ranks, 5), r10: at(ranks, 10) });
  return { textToImage: recall(t2i), imageToText: recall(i2t) };
}
