import { namedSchedule, type ReductionConfig } from '@pumer/core';

/** The schedules the tiny checkpoints' reference run used (reference.json), by their registered names. */
export const MODEL_PARITY_SCHEDULE_NAMES = ['unreduced', 'pumer', 'aggressive'] as const;
export type ModelParityScheduleName = (typeof MODEL_PARITY_SCHEDULE_NAMES)[number];

/** Depth of the tiny checkpoints. */
export const TINY_MODEL_LAYERS = 6;

export interface ModelParitySchedule<Name extends string = string> {
  readonly name: Name;
  readonly config: ReductionConfig | null;
}

/** The model-parity schedules resolved by core's registry for a model of `numLayers` layers. */
export function modelParitySchedules(
  numLayers: number = TINY_MODEL_LAYERS,
): ModelParitySchedule<ModelParityScheduleName>[] {
  return MODEL_PARITY_SCHEDULE_NAMES.map((name) => ({ name, config: namedSchedule(name, numLayers) }));
}
