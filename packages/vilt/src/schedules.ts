import { ConfigError, type ReductionConfig, validateReductionConfig } from '@pumer/core';

/**
 * The named schedules of the reference results (/work/shared/models/reference.json "about"), so that
 * `evaluate` and the CLI can ask for them by name.
 */
export const NAMED_SCHEDULES = {
  /** No reduction. */
  unreduced: null,
  /** The paper's recipe scaled to the 6-layer tiny model. */
  pumer: Object.freeze({
    reduceLayers: Object.freeze([1, 3]),
    pruneRatio: 0.1,
    mergeRatio: 0.3,
    textMergeRatio: 0.2,
    saliency: 'first_head',
    mergeStyle: 'tip',
  }),
  /** Reduce early and hard. */
  aggressive: Object.freeze({
    reduceLayers: Object.freeze([0, 2, 4]),
    pruneRatio: 0.3,
    mergeRatio: 0.5,
    textMergeRatio: 0.2,
    saliency: 'first_head',
    mergeStyle: 'tip',
  }),
} as const satisfies Record<string, ReductionConfig | null>;

export type ScheduleName = keyof typeof NAMED_SCHEDULES;

/** A schedule argument: a name, 'model' (the checkpoint's own, none if it has none), 'none', or a config. */
export type ScheduleChoice = ScheduleName | 'model' | 'none' | ReductionConfig | null;

/** Resolves a schedule argument to a validated config (null: unreduced). */
export function resolveSchedule(
  choice: ScheduleChoice,
  modelSchedule: ReductionConfig | null,
  numLayers: number,
): ReductionConfig | null {
  if (choice === null || choice === 'none' || choice === 'unreduced') return null;
  if (choice === 'model') return modelSchedule;
  if (typeof choice === 'string') {
    if (!(choice in NAMED_SCHEDULES)) {
      throw new ConfigError(
        'schedule',
        `must be one of unreduced, pumer, aggressive, model, none or a ReductionConfig, got "${choice}"`,
      );
    }
    const named = NAMED_SCHEDULES[choice as ScheduleName];
    return named ? validateReductionConfig(named, numLayers) : null;
  }
  return validateReductionConfig(choice, numLayers);
}
