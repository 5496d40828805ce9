import { checkMergeArgs, floatTensor, MERGE_STYLE_RULES } from '@pumer/core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../builder.js';
import { buildMergeGraph, buildPruneGraph } from '../standalone.js';
import { stableRank } from './rank.js';
import { gatherRows } from './rows.js';

async function run(g: GraphBuilder, feeds: Record<string, ort.Tensor>) {
  const session = await ort.InferenceSession.create(g.toOnnxBytes());
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}
const f32 = (data: number[], dims: number[]) => new ort.Tensor('float32', Float32Array.from(data), dims);

describe('reducer graphs', () => {
  it('stableRank ranks descending and ascending with ties lower-index-first', async () => {
    const g = new GraphBuilder('rank');
    const s = g.input('s', 'float32', ['batch', 5]);
    g.output(stableRank(g, s, 5, true), 'desc', 'float32', ['batch', 5]);
    g.output(stableRank(g, s, 5, false), 'asc', 'float32', ['batch', 5]);
    const out = await run(g, { s: f32([3, 1, 3, 2, 1], [1, 5]) });
    expect(Array.from(out['desc'].data as Float32Array)).toEqual([0, 3, 1, 2, 4]);
    expect(Array.from(out['asc'].data as Float32Array)).toEqual([3, 0, 4, 2, 1]);
  });

  it('gatherRows copies the rows each example picks, in pick order, for any batch', async () => {
    const g = new GraphBuilder('gather');
    const x = g.input('x', 'float32', ['batch', 4, 2]);
    const idx = g.input('idx', 'float32', ['batch', 3]);
    g.output(gatherRows(g, x, idx, 4, 2), 'rows', 'float32', ['batch', 3, 2]);
    const out = await run(g, {
      x: f32(
        [
          0, 1, 10, 11, 20, 21, 30, 31, 100, 101, 110, 111, 120, 121, 130, 131, 200, 201, 210, 211, 220, 221,
          230, 231,
        ],
        [3, 4, 2],
      ),
      idx: f32([3, 0, 2, 1, 1, 0, 2, 3, 3], [3, 3]),
    });
    expect(out['rows'].dims).toEqual([3, 3, 2]);
    expect(Array.from(out['rows'].data as Float32Array)).toEqual([
      30, 31, 0, 1, 20, 21, 110, 111, 110, 111, 100, 101, 220, 221, 230, 231, 230, 231,
    ]);
  });

  it('prune keeps the highest scores in descending order', async () => {
    const out = await run(buildPruneGraph(6, 3), {
      scores: f32([0.1, 0.7, 0.3, 0.7, 0.9, 0.2, 6, 5, 4, 3, 2, 1], [2, 6]),
    });
    expect(Array.from(out['keep_idx'].data as Int32Array)).toEqual([4, 1, 3, 0, 1, 2]);
    expect(out['values'].dims).toEqual([2, 3]);
  });

  it('ToMe with a class token merges the best-matched A rows into their B partner (hand-worked case)', async () => {
    // n = 5: A = rows 0, 2, 4; B = rows 1, 3. Row 2 matches row 3 exactly, row 4 leans to row 1; r = 1.
    const metric = [1, 0, 0, 1, 0.6, 0.8, 0.6, 0.8, 1, 0.1];
    const x = [10, 1, 2, 3, 4];
    const g = buildMergeGraph({
      rule: MERGE_STYLE_RULES.tome,
      n: 5,
      c: 2,
      d: 1,
      r: 1,
      protectFirst: true,
      unmergedOrder: 'position',
      withSize: false,
    });
    const out = await run(g, { metric: f32(metric, [1, 5, 2]), x: f32(x, [1, 5, 1]) });
    // Unmerged A rows (0, 4) first by position, then B rows (1, 3+2 averaged).
    expect(Array.from(out['dst'].data as Int32Array)).toEqual([0, 2, 3, 3, 1]);
    expect(Array.from(out['x_out'].data as Float32Array)).toEqual([10, 4, 1, 2.5]);
    expect(Array.from(out['size_out'].data as Float32Array)).toEqual([1, 1, 1, 2]);
  });

  it('clamps r to what each style allows (the r a merge graph is built for comes from core)', () => {
    const x = (n: number) => floatTensor(new Float32Array(n), [1, n, 1]);
    const metric = (n: number) => floatTensor(new Float32Array(n).fill(1), [1, n, 1]);
    const saliency = (n: number) => floatTensor(new Float32Array(n), [1, n]);
    const r = (args: Parameters<typeof checkMergeArgs>[0]) => checkMergeArgs(args).r;
    expect(
      r({ style: 'tip', x: x(10), metric: metric(10), saliency: saliency(10), r: 9, protectFirst: true }),
    ).toBe(4);
    expect(r({ style: 'tome', x: x(10), metric: metric(10), r: 9, protectFirst: false })).toBe(5);
    expect(r({ style: 'diff', x: x(7), saliency: saliency(7), r: 9, protectFirst: true })).toBe(3);
  });
});
