import {
  listSchedules,
  MODEL_SCHEDULE,
  type ModelFamily,
  type ReductionConfig,
  type ResolvedSchedule,
  resolveSchedule,
} from '@pumer/core';

/**
 * The demo's schedules: core's resolver, nothing of its own (docs/schedules.md). Pure, so it is tested in
 * Node against the pipeline and the CLI.
 */

/**
 * The schedule `choice` (a name core knows, or `model`) means on a model of `numLayers` layers (METER: steps)
 * of `family`.
 */
export function demoSchedule(
  choice: string,
  numLayers: number,
  modelSchedule: ReductionConfig | null,
  family: ModelFamily = 'vilt',
): ResolvedSchedule {
  return resolveSchedule(choice, { numLayers, modelSchedule, family });
}

export interface ScheduleOption {
  /** The name the engine is asked with. */
  readonly value: string;
  /** What the menu shows: the name and the layers it reduces on this model. */
  readonly label: string;
}

/** The schedule menu for a model: the checkpoint's own first, then every registered schedule of its family. */
export function scheduleOptions(
  numLayers: number,
  modelSchedule: ReductionConfig | null,
  family: ModelFamily = 'vilt',
): ScheduleOption[] {
  const unit = family === 'meter' ? 'steps' : 'layers';
  return [MODEL_SCHEDULE, ...listSchedules(family).map((s) => s.name)].map((value) => {
    const { config } = demoSchedule(value, numLayers, modelSchedule, family);
    const layers = config?.reduceLayers.length ? `${unit} ${config.reduceLayers.join(', ')}` : 'off';
    return { value, label: `${value === MODEL_SCHEDULE ? "model's own" : value} (${layers})` };
  });
}
