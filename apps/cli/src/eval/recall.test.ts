import { describe, expect, it } from 'vitest';
import { retrievalRecall } from './recall.js';

describe('retrievalRecall', () => {
  it('ranks each true pair among its row (text → image) and column (image → text); ties count against it', () => {
    // text 0: own image best; text 1: image 0 ties its own (2 = 2) so it ranks second; text 2: own image last.
    const scores = [
      [5, 1, 0],
      [2, 2, 0],
      [9, 8, 1],
    ].flat();
    const r = retrievalRecall(scores, 3);
    expect(r.textToImage).toEqual({ r1: 1 / 3, r5: 1, r10: 1 });
    // image 0: text 2 scores 9 > 5; image 1: text 2 scores 8 > 2; image 2: own text 1 ties nothing (0, 0 < 1).
    expect(r.imageToText).toEqual({ r1: 1 / 3, r5: 1, r10: 1 });
    expect(() => retrievalRecall([1, 2, 3], 2)).toThrow(/2×2/);
  });
});
