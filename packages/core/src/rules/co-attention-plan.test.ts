import { describe, expect, it } from 'vitest';
import type { ReductionConfig } from '../config.js';
import { meterStepsFromLayerIndices, planCoAttentionStep } from './co-attention-plan.js';

const schedule = (p: number, r: number, t: number, reduceLayers = [0]): ReductionConfig => ({
  reduceLayers,
  pruneRatio: p,
  mergeRatio: r,
  textMergeRatio: t,
  saliency: 'mean_head',
  mergeStyle: 'tome',
});

describe('planCoAttentionStep', () => {
  // (p, r, t, T, I) -> (T', I') as the authors' METER computes them (the golden cross-layer cases).
  it.each([
    [0.2, 0.2, 0.2, 12, 17, 10, 11],
    [0.1, 0.9, 0.9, 11, 21, 6, 10],
    [0.3, 0.5, 0.2, 10, 26, 8, 10],
    [0.3, 0.5, 0.2, 9, 37, 7, 14],
    [0.1, 0.3, 0.0, 8, 17, 8, 10],
    [0.3, 0.0, 0.2, 10, 17, 8, 17],
    [0.0, 0.5, 0.2, 10, 17, 10, 17],
    [0.0, 0.0, 0.0, 8, 10, 8, 10],
    [0.02, 0.1, 0.25, 10, 25, 8, 23],
    [0.7, 0.5, 0.5, 9, 9, 5, 2],
    [0.5, 0.5, 0.3, 7, 5, 5, 2],
  ])('p %f r %f t %f on (%i, %i) gives (%i, %i)', (p, r, t, T, I, tOut, iOut) => {
    const plan = planCoAttentionStep(schedule(p, r, t), 0, T, I);
    expect([plan.textOut, plan.imageOut]).toEqual([tOut, iOut]);
  });

  it('reduces whenever the prune ratio is > 0, even when its count rounds to 0', () => {
    const plan = planCoAttentionStep(schedule(0.02, 0.1, 0.25), 0, 10, 25);
    expect(plan).toMatchObject({ kind: 'pumer', pruneCount: 0, keep: 25, imageMergeR: 2 });
  });

  it('leaves the image stream unchanged when the merge count rounds to 0, but still merges text', () => {
    const plan = planCoAttentionStep(schedule(0.3, 0.0, 0.2), 0, 10, 17);
    expect(plan).toMatchObject({ kind: 'pumer', imageReduced: false, keep: 12, imageOut: 17, textOut: 8 });
  });

  it('prunes without merging where the authors crash (keep <= 2 with a merge asked for)', () => {
    const plan = planCoAttentionStep(schedule(0.6, 0.5, 0.0), 0, 8, 5);
    expect(plan).toMatchObject({ kind: 'pumer', keep: 2, imageReduced: true, imageMergeR: 0, imageOut: 2 });
    const one = planCoAttentionStep(schedule(0.9, 0.5, 0.5), 0, 2, 3);
    expect(one).toMatchObject({ keep: 1, imageMergeR: 0, imageOut: 1, textMergeR: 0, textOut: 2 });
  });

  it('passes through steps the schedule does not list, and with no schedule', () => {
    expect(planCoAttentionStep(schedule(0.2, 0.2, 0.2, [1]), 0, 12, 17).kind).toBe('none');
    expect(planCoAttentionStep(null, 0, 12, 17)).toEqual({
      kind: 'none',
      textIn: 12,
      imageIn: 17,
      textOut: 12,
      imageOut: 17,
    });
  });
});

describe('meterStepsFromLayerIndices', () => {
  it('maps layer_idx 2s to step s, dropping odd indices and those past the last step', () => {
    expect(meterStepsFromLayerIndices([0, 2, 4, 6], 2)).toEqual([0, 1]);
    expect(meterStepsFromLayerIndices([2, 4, 6], 6)).toEqual([1, 2, 3]);
    expect(meterStepsFromLayerIndices([1, 3, 12, -2], 6)).toEqual([]);
  });
});
