import { type ModelGeometry, type ReductionConfig, schedule, validateReductionConfig } from '@pumer/core';
import {
  candidateConfig,
  configKey,
  levelsOf,
  methodsOf,
  predictedSpeedup,
  type TuneLevel,
  type TuneMethod,
  type TuneSpace,
} from './space.js';

/**
 * The schedule search of `pumer tune` (docs/tuning.md, "How the search works"). Accuracy and speed are the
 * caller's (measured on its backend); the scheduler's FLOPs order the candidates before anything runs:
 * 1. every method (saliency × style × training-free) at one reference level, the best `keepMethods` go on;
 * 2. for each, a binary search over the levels sorted by predicted speed-up for the fastest one within the
 *    accuracy budget (accuracy falls, roughly, as reduction grows), then the next few levels past it in case
 *    the fall is not monotone; a drop is held against the budget with `margin` standard errors added, from the
 *    unreduced model or from the reference, whichever answers more of the calibration rows;
 * 3. the within-budget candidates with the highest predicted speed-ups, the frontier by prediction and the
 *    reference are timed side by side with the unreduced model; the fastest measured one within budget is chosen.
 */

export interface TuneEvaluator {
  /** Whether each calibration row is answered correctly (null: unreduced). */
  correct(config: ReductionConfig | null): Promise<readonly boolean[]>;
  /** Measured speed-ups over the unreduced model, one per config, timed side by side. */
  speedups(configs: readonly ReductionConfig[]): Promise<number[]>;
}

export interface TuneOptions {
  readonly geometry: ModelGeometry;
  readonly space: TuneSpace;
  /** The level the methods are compared at (the `pumer` schedule, or the checkpoint's own). */
  readonly reference: ReductionConfig;
  /** Largest accuracy drop allowed, in points (1 = one percentage point). */
  readonly maxDrop: number;
  /**
   * Standard errors added to a measured drop before it is held against the budget (default 0.5; 0: the drop
   * as measured). The search picks the best of many tries, so a drop measured just within budget is optimistic.
   */
  readonly margin?: number;
  /** Methods kept after the screening (default 4). */
  readonly keepMethods?: number;
  /** Levels tried past each binary search's answer (default 3). */
  readonly lookahead?: number;
  /** Climb steps through neighbouring levels after each binary search (default 3; 0: none). */
  readonly climb?: number;
  /**
   * Measured speed-ups within this fraction of the fastest count as equal (default 0.05); of those, the reference's
   * method wins, then the most accurate.
   */
  readonly tie?: number;
  /** Candidates timed (default 6, the reference besides). */
  readonly timed?: number;
  readonly onProgress?: (done: number, total: number, stage: string) => void;
}

export interface TunePoint {
  readonly config: ReductionConfig;
  readonly accuracy: number;
  /**
   * The drop in points, plus `margin` standard errors of that paired difference (rows the two answer
   * differently), against unreduced — and against the reference schedule when that reads higher: what is held
   * against the budget.
   */
  readonly dropBound: number;
  /** The scheduler's FLOPs speed-up. */
  readonly predictedSpeedup: number;
  /** Measured speed-up over unreduced, when timed. */
  readonly measuredSpeedup?: number;
  readonly withinBudget: boolean;
  /** Which stage evaluated it. */
  readonly stage: 'screen' | 'search';
}

export interface TuneResult {
  readonly unreducedAccuracy: number;
  readonly maxDrop: number;
  /** Every schedule whose accuracy was measured, in evaluation order. */
  readonly points: readonly TunePoint[];
  /** Timed points no other timed point beats on both accuracy and measured speed-up. */
  readonly frontier: readonly TunePoint[];
  /** The fastest measured point within budget (ties: the most accurate); null: none was (keep the model unreduced). */
  readonly chosen: TunePoint | null;
  /** The reference schedule as given (the `pumer` schedule, or the checkpoint's own). */
  readonly reference: TunePoint;
  readonly evaluations: number;
}

/** The speed-up a point is judged by: measured when timed, else the prediction. */
export function speedupOf(p: TunePoint): number {
  return p.measuredSpeedup ?? p.predictedSpeedup;
}

/** Points not dominated by another (at least as accurate and as fast, better in one), fastest first. */
export function paretoFrontier(points: readonly TunePoint[]): TunePoint[] {
  const sorted = [...points].sort((a, b) => speedupOf(b) - speedupOf(a) || b.accuracy - a.accuracy);
  const out: TunePoint[] = [];
  let best = Number.NEGATIVE_INFINITY;
  for (const p of sorted) {
    if (p.accuracy > best) {
      out.push(p);
      best = p.accuracy;
    }
  }
  return out;
}

/** The token counts a config gives every layer: schedules with equal counts and method run identically. */
function countsKey(geometry: ModelGeometry, config: ReductionConfig): string {
  return schedule(geometry, config)
    .layers.map((l) => `${l.textTokens}/${l.imageTokens}`)
    .join(',');
}

/** The method a schedule runs: its saliency, merge style and training-free switch. */
function methodOf(config: ReductionConfig): TuneMethod {
  return {
    saliency: config.saliency,
    mergeStyle: config.mergeStyle,
    trainingFree: Boolean(config.trainingFree),
  };
}

function sameMethod(config: ReductionConfig, method: TuneMethod): boolean {
  const m = methodOf(config);
  return (
    m.saliency === method.saliency &&
    m.mergeStyle === method.mergeStyle &&
    m.trainingFree === method.trainingFree
  );
}

/** The space's next value above `value`, if any. */
function stepUp(values: readonly number[], value: number): number | undefined {
  return [...values].sort((a, b) => a - b).find((v) => v > value + 1e-9);
}

/**
 * The levels one step more reduced than `config`'s: one ratio raised to the space's next value, or one reduce
 * layer moved one layer earlier (reducing sooner saves the layers in between).
 */
export function neighbourLevels(config: ReductionConfig, space: TuneSpace): TuneLevel[] {
  const level: TuneLevel = {
    reduceLayers: config.reduceLayers,
    pruneRatio: config.pruneRatio,
    mergeRatio: config.mergeRatio,
    textMergeRatio: config.textMergeRatio,
  };
  const out: TuneLevel[] = [];
  const prune = stepUp(space.prune, level.pruneRatio);
  if (prune !== undefined) out.push({ ...level, pruneRatio: prune });
  const merge = stepUp(space.merge, level.mergeRatio);
  if (merge !== undefined) out.push({ ...level, mergeRatio: merge });
  const text = stepUp(space.text, level.textMergeRatio);
  if (text !== undefined) out.push({ ...level, textMergeRatio: text });
  const layers = level.reduceLayers;
  layers.forEach((l, i) => {
    if (l - 1 >= 0 && !layers.includes(l - 1)) {
      const moved = layers.map((x, j) => (j === i ? l - 1 : x));
      out.push({ ...level, reduceLayers: moved });
    }
  });
  return out;
}

export async function tuneSchedules(o: TuneOptions, ev: TuneEvaluator): Promise<TuneResult> {
  const numLayers = o.geometry.numLayers;
  const methods = methodsOf(o.space);
  const levels = levelsOf(o.space);
  const keepMethods = Math.min(o.keepMethods ?? 4, methods.length);
  const lookahead = o.lookahead ?? 3;
  const climb = o.climb ?? 3;
  // Progress is an estimate: a climb step evaluates up to a handful of neighbours.
  const searchSteps = Math.ceil(Math.log2(levels.length + 1)) + lookahead + climb * 4;
  const total = 2 + methods.length + keepMethods * searchSteps;
  let done = 0;
  const tick = (stage: string) => {
    done++;
    o.onProgress?.(done, Math.max(total, done), stage);
  };

  const base = await ev.correct(null);
  const n = base.length;
  const unreducedAccuracy = base.filter(Boolean).length / n;
  tick('unreduced');
  const margin = o.margin ?? 0.5;
  /** The paired drop from `from` in points and its bound: lost rows minus gained ones, plus `margin` standard errors. */
  const dropBound = (from: readonly boolean[], correct: readonly boolean[]) => {
    let lost = 0;
    let gained = 0;
    correct.forEach((c, i) => {
      if (from[i] && !c) lost++;
      if (!from[i] && c) gained++;
    });
    const drop = (lost - gained) / n;
    const se = Math.sqrt(Math.max(0, lost + gained - n * drop * drop)) / n;
    return 100 * (drop + margin * se);
  };
  // The budget is held against the better of the unreduced model and the reference schedule: when the reference
  // (the checkpoint's own, trained schedule) reads above unreduced on a small calibration set, that lead is as
  // likely chance as gain, and a candidate that falls more than the budget below it has spent the budget already.
  let referenceRows: readonly boolean[] | null = null;
  const judge = (correct: readonly boolean[]) => {
    const accuracy = correct.filter(Boolean).length / n;
    const vsUnreduced = dropBound(base, correct);
    const vsReference = referenceRows ? dropBound(referenceRows, correct) : Number.NEGATIVE_INFINITY;
    return { accuracy, dropBound: Math.max(vsUnreduced, vsReference) };
  };
  const points = new Map<string, TunePoint>();
  const evaluate = async (
    config: ReductionConfig,
    stage: TunePoint['stage'] | 'reference',
  ): Promise<TunePoint> => {
    const key = configKey(config);
    const known = points.get(key);
    if (known) return known;
    const correct = await ev.correct(config);
    const { accuracy, dropBound: bound } = judge(correct);
    if (stage === 'reference' && accuracy > unreducedAccuracy) referenceRows = correct;
    const p: TunePoint = {
      config,
      accuracy,
      dropBound: bound,
      predictedSpeedup: predictedSpeedup(o.geometry, config),
      withinBudget: bound <= o.maxDrop + 1e-9,
      stage: stage === 'reference' ? 'screen' : stage,
    };
    points.set(key, p);
    tick(p.stage);
    return p;
  };

  // 1. Screening: every method at the reference level (the reference itself first).
  const reference = await evaluate(validateReductionConfig(o.reference, numLayers), 'reference');
  const screened: { method: TuneMethod; point: TunePoint }[] = [];
  for (const method of methods) {
    const point = await evaluate(candidateConfig(o.reference, method, numLayers), 'screen');
    screened.push({ method, point });
  }
  const kept = [...screened]
    .sort((a, b) => b.point.accuracy - a.point.accuracy)
    .slice(0, keepMethods)
    .map((s) => s.method);

  // 2. Per kept method, the fastest level within budget by binary search over predicted speed-up.
  for (const method of kept) {
    const seen = new Set<string>();
    const ladder = levels
      .map((level) => candidateConfig(level, method, numLayers))
      .filter((c) => {
        const k = countsKey(o.geometry, c);
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      })
      .map((config) => ({ config, speedup: predictedSpeedup(o.geometry, config) }))
      .sort((a, b) => a.speedup - b.speedup);
    let lo = -1; // highest index known within budget
    let hi = ladder.length; // lowest index known over budget
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if ((await evaluate(ladder[mid]!.config, 'search')).withinBudget) lo = mid;
      else hi = mid;
    }
    for (let k = hi + 1; k < Math.min(ladder.length, hi + 1 + lookahead); k++) {
      await evaluate(ladder[k]!.config, 'search');
    }
    // 2b. Accuracy does not fall with the prediction across different layer sets: a level next to the answer
    //     (one ratio one step up, one reduce layer one earlier) can be predicted faster and still within budget
    //     where the ladder's next rungs were not. Climb through such neighbours while one is within budget.
    let at = [...points.values()]
      .filter((p) => p.withinBudget && sameMethod(p.config, method))
      .sort((a, b) => b.predictedSpeedup - a.predictedSpeedup)[0];
    for (let steps = 0; at && steps < climb; steps++) {
      const here: TunePoint = at;
      const seenCounts = new Set([countsKey(o.geometry, here.config)]);
      const next: TunePoint[] = [];
      for (const level of neighbourLevels(here.config, o.space)) {
        const config = candidateConfig(level, method, numLayers);
        const counts = countsKey(o.geometry, config);
        if (seenCounts.has(counts) || predictedSpeedup(o.geometry, config) <= here.predictedSpeedup) continue;
        seenCounts.add(counts);
        next.push(await evaluate(config, 'search'));
      }
      at = next.filter((p) => p.withinBudget).sort((a, b) => b.predictedSpeedup - a.predictedSpeedup)[0];
    }
  }

  // 3. Time the within-budget candidates the scheduler expects fastest, and the reference, side by side.
  //    The frontier by prediction is timed too, so the frontier reported is a measured one.
  const within = [...points.values()].filter((p) => p.withinBudget);
  const toTime = within.sort((a, b) => b.predictedSpeedup - a.predictedSpeedup).slice(0, o.timed ?? 6);
  for (const p of [...paretoFrontier([...points.values()]), reference])
    if (!toTime.includes(p)) toTime.push(p);
  o.onProgress?.(Math.max(total, done), Math.max(total, done), 'timing');
  const measured = await ev.speedups(toTime.map((p) => p.config));
  toTime.forEach((p, i) => {
    points.set(configKey(p.config), { ...p, measuredSpeedup: measured[i]! });
  });
  const all = [...points.values()];
  // A schedule measured slower than the unreduced model is never worth choosing.
  const timedWithin = all.filter((p) => p.withinBudget && (p.measuredSpeedup ?? 0) > 1);
  // Timings on a busy machine wobble by a few per cent: speed-ups within `tie` of the fastest count as equal.
  // Among those the reference's method wins (a checkpoint fine-tuned with its schedule was trained for it, which
  // a small calibration set cannot show), then the most accurate, then the fastest.
  const fastest = Math.max(...timedWithin.map(speedupOf));
  const tie = o.tie ?? 0.05;
  const referenceMethod = methodOf(reference.config);
  const own = (p: TunePoint) => sameMethod(p.config, referenceMethod);
  const better = (a: TunePoint, b: TunePoint) =>
    own(b) !== own(a)
      ? own(b)
      : b.accuracy !== a.accuracy
        ? b.accuracy > a.accuracy
        : speedupOf(b) > speedupOf(a);
  const chosen = timedWithin.length
    ? timedWithin.filter((p) => speedupOf(p) >= fastest * (1 - tie)).reduce((a, b) => (better(a, b) ? b : a))
    : null;
  return {
    unreducedAccuracy,
    maxDrop: o.maxDrop,
    points: all,
    frontier: paretoFrontier(all.filter((p) => p.measuredSpeedup !== undefined)),
    chosen,
    reference: points.get(configKey(reference.config)) ?? reference,
    evaluations: all.length + 1,
  };
}
