import {
  describeSchedule,
  type MergeStyle,
  type ModelFamily,
  type ReductionConfig,
  type ResolvedSchedule,
  resolveSchedule,
  type Saliency,
  type ScheduleOverrides,
} from '@pumer/core';

/**
 * The schedule flags every command shares, turned into a schedule by core's one resolver
 * (docs/schedules.md): `--schedule` names it, `--layers --prune --merge --text-merge --saliency --style --training-free` override it.
 */
export interface ScheduleFlags {
  schedule?: string;
  layers?: number[];
  prune?: number;
  merge?: number;
  /** `--text-merge`: the text-token merge ratio (`--text` is the text input of run and retrieve). */
  textMerge?: number;
  saliency?: Saliency;
  style?: MergeStyle;
  /** `--training-free` / `--no-training-free`: the mode for checkpoints fine-tuned without the reducers. */
  trainingFree?: boolean;
}

function overridesOf(flags: ScheduleFlags): ScheduleOverrides {
  return {
    reduceLayers: flags.layers,
    pruneRatio: flags.prune,
    mergeRatio: flags.merge,
    textMergeRatio: flags.textMerge,
    saliency: flags.saliency,
    mergeStyle: flags.style,
    trainingFree: flags.trainingFree,
  };
}

export function hasOverrideFlags(flags: ScheduleFlags): boolean {
  return Object.values(overridesOf(flags)).some((v) => v !== undefined);
}

/**
 * The schedule the flags ask for on a model of `numLayers` layers (METER: co-attention steps) of `family`
 * whose checkpoint carries `modelSchedule`. No `--schedule` means `model`: the checkpoint's own, or no
 * reduction when it has none.
 */
export function scheduleFromFlags(
  flags: ScheduleFlags,
  numLayers: number,
  modelSchedule: ReductionConfig | null = null,
  family: ModelFamily = 'vilt',
): ResolvedSchedule {
  return resolveSchedule(flags.schedule ?? 'model', {
    numLayers,
    family,
    modelSchedule,
    overrides: overridesOf(flags),
  });
}

/** One line: `pumer: layers 1,3 prune 0.1 merge 0.3 text 0.2 first_head/tip (…what it is…)`; METER: `steps`. */
export function scheduleLine(s: ResolvedSchedule, family: ModelFamily = 'vilt'): string {
  return `${s.name}: ${describeSchedule(s.config, family)} (${s.description})`;
}
