import { namedSchedule, type ReductionConfig } from '@pumer/core';
import { describe, expect, it } from 'vitest';
import { TINY_GEOMETRY } from '../geometries.js';
import { defaultSpace, levelsOf, methodsOf, predictedSpeedup } from './space.js';
import { neighbourLevels, paretoFrontier, type TunePoint, tuneSchedules } from './search.js';

const geometry = TINY_GEOMETRY;

/**
 * A made-up model: accuracy falls linearly with the predicted speed-up, less steeply in training-free mode and
 * with k_metric; time is proportional to FLOPs. What the search must find is then known exactly.
 */
function fakeEvaluator() {
  const calls: (ReductionConfig | null)[] = [];
  const accuracy = (c: ReductionConfig | null) => {
    if (!c) return 0.9;
    const slope = (c.trainingFree ? 0.05 : 0.2) * (c.saliency === 'k_metric' ? 0.5 : 1);
    return 0.9 - slope * (predictedSpeedup(geometry, c) - 1);
  };
  return {
    calls,
    accuracy,
    evaluator: {
      // 1000 rows: the first `accuracy` of them right, so a lower accuracy only loses rows.
      correct: async (c: ReductionConfig | null) => {
        calls.push(c);
        const right = Math.round(1000 * accuracy(c));
        return Array.from({ length: 1000 }, (_, i) => i < right);
      },
      speedups: async (cs: readonly ReductionConfig[]) => cs.map((c) => predictedSpeedup(geometry, c)),
    },
  };
}

describe('tuneSchedules', () => {
  const space = defaultSpace(6);
  const reference = namedSchedule('pumer', 6)!;

  it('finds the fastest schedule within the budget with far fewer runs than the grid', async () => {
    const fake = fakeEvaluator();
    const r = await tuneSchedules(
      { geometry, space, reference, maxDrop: 2, margin: 0, tie: 0 },
      fake.evaluator,
    );
    const grid = levelsOf(space).length * methodsOf(space).length;
    expect(fake.calls.length).toBeLessThan(grid / 100);
    expect(r.unreducedAccuracy).toBe(0.9);
    expect(r.chosen).not.toBeNull();
    const chosen = r.chosen!;
    // The flattest method wins: k_metric in training-free mode.
    expect(chosen.config.trainingFree).toBe(true);
    expect(chosen.config.saliency).toBe('k_metric');
    expect(Math.round(1000 * fake.accuracy(chosen.config))).toBeGreaterThanOrEqual(880);
    // No level of that method within the budget is predicted faster (the fall is monotone here).
    const best = Math.max(
      ...levelsOf(space)
        .map((l) => ({
          ...l,
          saliency: chosen.config.saliency,
          mergeStyle: chosen.config.mergeStyle,
          trainingFree: true,
        }))
        .filter((c) => Math.round(1000 * fake.accuracy(c)) >= 880)
        .map((c) => predictedSpeedup(geometry, c)),
    );
    expect(chosen.predictedSpeedup).toBeCloseTo(best, 6);
    expect(chosen.measuredSpeedup).toBeCloseTo(chosen.predictedSpeedup, 9);
    expect(r.reference.config).toEqual(reference);
    expect(r.reference.measuredSpeedup).toBeDefined();
  });

  it('holds the budget against the reference when the reference reads above unreduced', async () => {
    // Unreduced 0.90; the reference (the checkpoint's own schedule) 0.95; every other schedule 0.92: within two
    // points of unreduced, but three below the reference, so only the reference's counts are within budget.
    const accuracy = (c: ReductionConfig | null) => (!c ? 0.9 : configsEqual(c, reference) ? 0.95 : 0.92);
    const configsEqual = (a: ReductionConfig, b: ReductionConfig) =>
      a.pruneRatio === b.pruneRatio &&
      a.mergeRatio === b.mergeRatio &&
      a.textMergeRatio === b.textMergeRatio &&
      a.saliency === b.saliency &&
      a.mergeStyle === b.mergeStyle &&
      Boolean(a.trainingFree) === Boolean(b.trainingFree) &&
      a.reduceLayers.join() === b.reduceLayers.join();
    const evaluator = {
      correct: async (c: ReductionConfig | null) => {
        const right = Math.round(1000 * accuracy(c));
        return Array.from({ length: 1000 }, (_, i) => i < right);
      },
      speedups: async (cs: readonly ReductionConfig[]) => cs.map((c) => predictedSpeedup(geometry, c)),
    };
    const r = await tuneSchedules({ geometry, space, reference, maxDrop: 2, margin: 0, tie: 0 }, evaluator);
    expect(r.chosen?.config).toEqual(r.reference.config);
    const others = r.points.filter((p) => p !== r.reference && p.config !== r.reference.config);
    expect(others.length).toBeGreaterThan(0);
    for (const p of others) expect(p.dropBound).toBeCloseTo(3, 6);
    for (const p of others) expect(p.withinBudget).toBe(false);
  });

  it('chooses nothing when no schedule keeps the accuracy', async () => {
    const r = await tuneSchedules(
      {
        geometry,
        space: { ...space, trainingFree: [false], saliency: ['first_head'] },
        reference,
        maxDrop: 0,
      },
      {
        correct: async (c) => Array.from({ length: 10 }, (_, i) => i < (c ? 5 : 9)),
        speedups: async (cs) => cs.map(() => 2),
      },
    );
    expect(r.chosen).toBeNull();
    expect(r.points.every((p) => !p.withinBudget)).toBe(true);
  });
});

describe('paretoFrontier', () => {
  const point = (accuracy: number, predictedSpeedup: number, measuredSpeedup?: number): TunePoint => ({
    config: namedSchedule('pumer', 6)!,
    accuracy,
    dropBound: 0,
    predictedSpeedup,
    ...(measuredSpeedup !== undefined ? { measuredSpeedup } : {}),
    withinBudget: true,
    stage: 'search',
  });

  it('keeps the points no other beats on both axes, fastest first; measured speed-ups count over predicted', () => {
    const a = point(0.8, 2);
    const b = point(0.85, 1.5);
    const c = point(0.84, 1.4); // dominated by b
    const d = point(0.9, 3, 1.2); // measured slower than predicted
    expect(paretoFrontier([a, b, c, d])).toEqual([a, b, d]);
  });
});

/** A search over layers and ratios alone (first_head/tip, not training-free), against the pumer schedule. */
const tipSpace = {
  ...defaultSpace(6),
  saliency: ['first_head' as const],
  styles: ['tip' as const],
  trainingFree: [false],
};
const pumerReference = namedSchedule('pumer', 6)!;

describe('the budget', () => {
  it('adds `margin` standard errors of the paired difference to a drop before judging it', async () => {
    // 100 rows; every reduced schedule loses rows 0-9 and gains rows 90-99 back: a drop of 0 from 20 flips.
    const ev = {
      correct: async (c: ReductionConfig | null) =>
        Array.from({ length: 100 }, (_, i) => (c ? i >= 10 : i < 90)),
      speedups: async (cs: readonly ReductionConfig[]) => cs.map(() => 1.5),
    };
    const loose = await tuneSchedules(
      { geometry, space: tipSpace, reference: pumerReference, maxDrop: 1, margin: 0 },
      ev,
    );
    expect(loose.reference.dropBound).toBeCloseTo(0, 9);
    expect(loose.chosen).not.toBeNull();
    // se = sqrt(20) / 100 = 4.47 points: one standard error is over a 1-point budget.
    const strict = await tuneSchedules(
      { geometry, space: tipSpace, reference: pumerReference, maxDrop: 1, margin: 1 },
      ev,
    );
    expect(strict.reference.dropBound).toBeCloseTo(100 * (Math.sqrt(20) / 100), 6);
    expect(strict.chosen).toBeNull();
  });
});

describe('the choice', () => {
  it('takes the most accurate of the schedules measured within `tie` of the fastest', async () => {
    // Accuracy falls with the predicted speed-up; the timing says every schedule runs 1.5x, give or take 1%.
    const ev = {
      correct: async (c: ReductionConfig | null) => {
        const right = c ? 1000 - Math.round(5 * (predictedSpeedup(geometry, c) - 1)) : 1000;
        return Array.from({ length: 1000 }, (_, i) => i < right);
      },
      speedups: async (cs: readonly ReductionConfig[]) => cs.map((_, i) => 1.5 + 0.01 * (i % 2)),
    };
    const r = await tuneSchedules(
      { geometry, space: tipSpace, reference: pumerReference, maxDrop: 5, margin: 0, tie: 0.05 },
      ev,
    );
    const timed = r.points.filter((p) => p.measuredSpeedup !== undefined);
    expect(r.chosen!.accuracy).toBe(Math.max(...timed.map((p) => p.accuracy)));
    const fastestOnly = await tuneSchedules(
      { geometry, space: tipSpace, reference: pumerReference, maxDrop: 5, margin: 0, tie: 0 },
      ev,
    );
    expect(fastestOnly.chosen!.measuredSpeedup).toBeCloseTo(1.51, 9);
  });
});

describe('the reference method', () => {
  it('wins a tie of measured speed-ups over a more accurate method: the checkpoint was trained with it', async () => {
    const space = {
      ...defaultSpace(6),
      saliency: ['first_head' as const],
      styles: ['tip' as const, 'tome' as const],
      trainingFree: [false],
    };
    const reference = namedSchedule('pumer', 6)!;
    const ev = {
      correct: async (c: ReductionConfig | null) =>
        Array.from({ length: 100 }, (_, i) => i < (c?.mergeStyle === 'tip' ? 95 : 99)),
      speedups: async (cs: readonly ReductionConfig[]) => cs.map(() => 1.5),
    };
    const r = await tuneSchedules({ geometry, space, reference, maxDrop: 100, margin: 0 }, ev);
    expect(r.chosen!.config.mergeStyle).toBe('tip');
  });
});

describe('the climb through neighbouring levels', () => {
  // Within budget: layers 1,3 with prune up to 0.2 and merge up to 0.3 (the pumer level and its neighbours);
  // everything else falls far. The ladder's binary search lands on other layer sets, where nothing holds.
  const holds = (c: ReductionConfig) =>
    c.reduceLayers.join() === '1,3' && c.pruneRatio <= 0.2 && c.mergeRatio <= 0.3 && c.textMergeRatio <= 0.2;
  const ev = {
    correct: async (c: ReductionConfig | null) =>
      Array.from({ length: 1000 }, (_, i) => i < (!c || holds(c) ? 900 : 700)),
    speedups: async (cs: readonly ReductionConfig[]) => cs.map((c) => predictedSpeedup(geometry, c)),
  };
  const options = { geometry, space: tipSpace, reference: pumerReference, maxDrop: 1, margin: 0, tie: 0 };

  it('finds the faster level next to the answer that the ladder skipped', async () => {
    const r = await tuneSchedules({ ...options, climb: 3 }, ev);
    expect(r.chosen!.config).toMatchObject({ reduceLayers: [1, 3], pruneRatio: 0.2, mergeRatio: 0.3 });
    expect(r.chosen!.predictedSpeedup).toBeGreaterThan(predictedSpeedup(geometry, pumerReference));
  });

  it('without it, stays at the reference level', async () => {
    const r = await tuneSchedules({ ...options, climb: 0 }, ev);
    expect(r.chosen!.config).toMatchObject({ reduceLayers: [1, 3], pruneRatio: 0.1, mergeRatio: 0.3 });
  });
});

describe('neighbourLevels', () => {
  it('raises one ratio one step, or moves one reduce layer one earlier', () => {
    const levels = neighbourLevels({ ...pumerReference, reduceLayers: [1, 2] }, tipSpace);
    expect(levels).toEqual([
      { reduceLayers: [1, 2], pruneRatio: 0.2, mergeRatio: 0.3, textMergeRatio: 0.2 },
      { reduceLayers: [1, 2], pruneRatio: 0.1, mergeRatio: 0.4, textMergeRatio: 0.2 },
      { reduceLayers: [0, 2], pruneRatio: 0.1, mergeRatio: 0.3, textMergeRatio: 0.2 },
    ]);
  });
});

describe('methodsOf', () => {
  it('searches each graph once: in training-free mode first_head reads every head, as mean_head does', () => {
    const methods = methodsOf(defaultSpace(6));
    const free = methods.filter((m) => m.trainingFree).map((m) => m.saliency);
    expect(new Set(free)).toEqual(new Set(['mean_head', 'k_metric', 'qk']));
    expect(methods.filter((m) => !m.trainingFree)).toHaveLength(12);
    // With mean_head out of the space, first_head stays: nothing else runs its graph.
    const only = methodsOf({ ...defaultSpace(6), saliency: ['first_head'], trainingFree: [true] });
    expect(only.map((m) => m.saliency)).toEqual(['first_head', 'first_head', 'first_head']);
  });
});
