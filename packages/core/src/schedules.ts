import { type ReductionConfig, validateReductionConfig } from './config.js';
import { ConfigError } from './errors.js';
import type { MergeStyle } from './rules/merge-styles.js';
import type { Saliency } from './rules/saliency-methods.js';

/**
 * The schedule registry: every named schedule, and the one resolver the pipeline, the CLI, the demo, the
 * parity runner and the benchmark call (docs/schedules.md).
 *
 * A named schedule is written for the depth its layer indices come from. On a model of another depth its
 * reduce layers scale by one rule: layer l of depth D0 becomes floor(l · D / D0), duplicates dropped. Ratios,
 * saliency and merge style never change with depth.
 *
 * A schedule may belong to one model family: ViLT's indices are layers, METER's co-attention steps, and METER
 * ignores the saliency method and merge style, so a schedule of one family means nothing sensible on the other
 * and the resolver refuses it there (docs/schedules.md, "Model families").
 */

/** The models a schedule can be written for. */
export const MODEL_FAMILIES = ['vilt', 'meter'] as const;
export type ModelFamily = (typeof MODEL_FAMILIES)[number];

/** The family a resolver context without one means: ViLT, the first model (every caller before METER). */
export const DEFAULT_MODEL_FAMILY: ModelFamily = 'vilt';

const FAMILY_NAMES: Readonly<Record<ModelFamily, string>> = { vilt: 'ViLT', meter: 'METER' };

export interface NamedSchedule {
  readonly name: string;
  readonly description: string;
  /** The model family the schedule is written for; absent: any model (only `unreduced`). */
  readonly family?: ModelFamily;
  /** The depth `config.reduceLayers` is written for. */
  readonly depth: number;
  /** null: no reduction. */
  readonly config: ReductionConfig | null;
  /** Other names that resolve to this schedule. */
  readonly aliases?: readonly string[];
}

/** The names `resolveSchedule` understands besides the registered ones: the checkpoint's own schedule. */
export const MODEL_SCHEDULE = 'model';

const KEY = Symbol.for('@pumer/core/schedules');

/** On a global symbol, like the backend registry: every copy of core (ESM, CJS, bundles) sees one table. */
function table(): Map<string, NamedSchedule> {
  const g = globalThis as { [KEY]?: Map<string, NamedSchedule> };
  if (!g[KEY]) {
    g[KEY] = new Map();
    for (const s of BUILT_IN) g[KEY].set(s.name, s);
  }
  return g[KEY];
}

/** The authors' METER task schedules, in co-attention steps (their layer_idx / 2) of full METER's 6. */
function meterRecipe(steps: readonly number[], pruneRatio: number, mergeRatio: number): ReductionConfig {
  // The authors' METER path ignores saliency and style (always head-averaged cross-attention, ToMe
  // averaging); these name what it does.
  return recipe(steps, pruneRatio, mergeRatio, 0.2, 'mean_head', 'tome');
}

function recipe(
  reduceLayers: readonly number[],
  pruneRatio: number,
  mergeRatio: number,
  textMergeRatio: number,
  saliency: Saliency = 'first_head',
  mergeStyle: MergeStyle = 'tip',
): ReductionConfig {
  return Object.freeze({
    reduceLayers: Object.freeze([...reduceLayers]),
    pruneRatio,
    mergeRatio,
    textMergeRatio,
    saliency,
    mergeStyle,
  });
}

const BUILT_IN: readonly NamedSchedule[] = [
  {
    name: 'unreduced',
    aliases: ['none', 'off'],
    description: 'no reduction: every layer sees every token',
    depth: 12,
    config: null,
  },
  {
    name: 'paper',
    family: 'vilt',
    description: "the paper's ViLT VQA schedule: layers 2,5,8 of 12, prune 0.1, merge 0.3, text 0.2",
    depth: 12,
    config: recipe([2, 5, 8], 0.1, 0.3, 0.2),
  },
  {
    name: 'pumer',
    family: 'vilt',
    description:
      "the paper's ratios on the 6-layer tiny models: layers 1,3 of 6, prune 0.1, merge 0.3, text 0.2",
    depth: 6,
    config: recipe([1, 3], 0.1, 0.3, 0.2),
  },
  {
    name: 'aggressive',
    family: 'vilt',
    description: 'reduce early and hard: layers 0,2,4 of 6, prune 0.3, merge 0.5, text 0.2',
    depth: 6,
    config: recipe([0, 2, 4], 0.3, 0.5, 0.2),
  },
  // The task schedules of the authors' released PuMer checkpoints (their config.json: sim_method "mh",
  // merge_style "tome").
  {
    name: 'vqa',
    family: 'vilt',
    description:
      "the authors' VQA schedule: layers 2,5,8 of 12, prune 0.1, merge 0.3, text 0.2, mean_head, tome",
    depth: 12,
    config: recipe([2, 5, 8], 0.1, 0.3, 0.2, 'mean_head', 'tome'),
  },
  {
    name: 've',
    family: 'vilt',
    description:
      "the authors' visual entailment schedule: layers 2,4,6,8 of 12, prune 0.1, merge 0.3, text 0.2, mean_head, tome",
    depth: 12,
    config: recipe([2, 4, 6, 8], 0.1, 0.3, 0.2, 'mean_head', 'tome'),
  },
  {
    name: 'nlvr2',
    family: 'vilt',
    description:
      "the authors' NLVR2 schedule (each image's pass reduced on its own): layers 2,5,8 of 12, prune 0.1, merge 0.3, text 0.2, mean_head, tome",
    depth: 12,
    config: recipe([2, 5, 8], 0.1, 0.3, 0.2, 'mean_head', 'tome'),
  },
  // The schedules of the authors' METER PuMer checkpoints (their reduce_layers 0,2,4,6 and 2,4,6 are layer_idx
  // 2s of step s), written for full METER's 6 co-attention steps.
  {
    name: 'meter-vqa',
    family: 'meter',
    description: "the authors' METER VQA schedule: steps 0,1,2,3 of 6, prune 0.2, merge 0.2, text 0.2",
    depth: 6,
    config: meterRecipe([0, 1, 2, 3], 0.2, 0.2),
  },
  {
    name: 'meter-ve',
    family: 'meter',
    description:
      "the authors' METER visual entailment schedule: steps 0,1,2,3 of 6, prune 0.3, merge 0.5, text 0.2",
    depth: 6,
    config: meterRecipe([0, 1, 2, 3], 0.3, 0.5),
  },
  {
    name: 'meter-nlvr2',
    family: 'meter',
    description:
      "the authors' METER NLVR2 schedule (each image's pass reduced on its own): steps 1,2,3 of 6, prune 0.3, merge 0.5, text 0.2",
    depth: 6,
    config: meterRecipe([1, 2, 3], 0.3, 0.5),
  },
];

/** Adds (or replaces) a named schedule. */
export function registerSchedule(schedule: NamedSchedule): void {
  if (typeof schedule?.name !== 'string' || schedule.name === '' || schedule.name === MODEL_SCHEDULE) {
    throw new ConfigError('schedule', `name must be a non-empty string other than "${MODEL_SCHEDULE}"`);
  }
  if (!Number.isInteger(schedule.depth) || schedule.depth < 1) {
    throw new ConfigError(
      'schedule',
      `${schedule.name}: depth must be a positive integer, got ${schedule.depth}`,
    );
  }
  if (schedule.family !== undefined && !MODEL_FAMILIES.includes(schedule.family)) {
    throw new ConfigError(
      'schedule',
      `${schedule.name}: family must be one of ${MODEL_FAMILIES.join(', ')}, got ${String(schedule.family)}`,
    );
  }
  if (schedule.config !== null) validateReductionConfig(schedule.config, schedule.depth);
  table().set(schedule.name, Object.freeze({ ...schedule }));
}

/** Whether a schedule runs on models of `family` (a schedule without a family runs on any). */
export function scheduleAppliesTo(schedule: NamedSchedule, family: ModelFamily): boolean {
  return schedule.family === undefined || schedule.family === family;
}

/** Every registered schedule in registration order; with a family, those that run on it. */
export function listSchedules(family?: ModelFamily): NamedSchedule[] {
  const all = [...table().values()];
  return family === undefined ? all : all.filter((s) => scheduleAppliesTo(s, family));
}

/**
 * Every name `resolveSchedule` accepts: registered names, their aliases and `model`; with a family, those it
 * accepts for that family.
 */
export function scheduleNames(family?: ModelFamily): string[] {
  return [...listSchedules(family).flatMap((s) => [s.name, ...(s.aliases ?? [])]), MODEL_SCHEDULE];
}

/** The registered schedule a name or alias stands for. */
export function findSchedule(name: string): NamedSchedule | undefined {
  for (const s of table().values()) if (s.name === name || s.aliases?.includes(name)) return s;
  return undefined;
}

/** The depth rule: layer l of a `fromDepth`-layer model is layer floor(l · toDepth / fromDepth), duplicates dropped. */
export function scaleReduceLayers(layers: readonly number[], fromDepth: number, toDepth: number): number[] {
  const out = new Set<number>();
  for (const l of layers) out.add(Math.floor((l * toDepth) / fromDepth));
  return [...out].sort((a, b) => a - b);
}

/** A named schedule for a model of `numLayers` layers (null: unreduced). */
export function namedSchedule(name: string, numLayers: number): ReductionConfig | null {
  const s = findSchedule(name);
  if (!s) {
    throw new ConfigError(
      'schedule',
      `unknown schedule "${name}" (expected one of ${scheduleNames().join(', ')})`,
    );
  }
  if (s.config === null) return null;
  const reduceLayers = scaleReduceLayers(s.config.reduceLayers, s.depth, numLayers);
  return validateReductionConfig({ ...s.config, reduceLayers }, numLayers);
}

/** Per-field changes on top of a schedule (the CLI's --layers --prune --merge --text --saliency --style). */
export interface ScheduleOverrides {
  readonly reduceLayers?: readonly number[];
  readonly pruneRatio?: number;
  readonly mergeRatio?: number;
  readonly textMergeRatio?: number;
  readonly saliency?: Saliency;
  readonly mergeStyle?: MergeStyle;
  /** Training-free mode on or off (docs/reducers.md, "Training-free mode"). */
  readonly trainingFree?: boolean;
}

/** A schedule argument: a registered name or alias, `model`, a config, or null (unreduced). */
export type ScheduleChoice = string | ReductionConfig | null;

export interface ScheduleContext {
  /** Depth of the model the schedule will run on (METER: its co-attention steps). */
  readonly numLayers: number;
  /** The model family it will run on (default `vilt`): a named schedule of another family is refused. */
  readonly family?: ModelFamily;
  /** The checkpoint's own schedule (what `model` means); null or absent: it has none. */
  readonly modelSchedule?: ReductionConfig | null;
  readonly overrides?: ScheduleOverrides;
}

export interface ResolvedSchedule {
  /** The registered name, `model`, `custom` (a config, or a name with overrides). */
  readonly name: string;
  /** Validated for the model's depth; null: no reduction. */
  readonly config: ReductionConfig | null;
  /** One line for a person: what was asked and what it means on this model. */
  readonly description: string;
}

/** What a depth counts: ViLT's layers, METER's co-attention steps. */
function depthUnit(family: ModelFamily): string {
  return family === 'meter' ? 'steps' : 'layers';
}

const NO_REDUCTION: ReductionConfig = recipe([], 0, 0, 0);

function hasOverrides(o: ScheduleOverrides | undefined): o is ScheduleOverrides {
  return o !== undefined && Object.values(o).some((v) => v !== undefined);
}

/**
 * The one resolver. `model` is the checkpoint's own schedule, or no reduction when it has none (said in the
 * description); a name scales to the model's depth; overrides apply last. Throws a ConfigError naming the
 * problem (an unknown name, a layer beyond the model, a ratio out of range).
 */
export function resolveSchedule(choice: ScheduleChoice | undefined, ctx: ScheduleContext): ResolvedSchedule {
  const { numLayers } = ctx;
  const family = ctx.family ?? DEFAULT_MODEL_FAMILY;
  if (!Number.isInteger(numLayers) || numLayers < 1) {
    throw new ConfigError('numLayers', `must be a positive integer, got ${String(numLayers)}`);
  }
  let name: string;
  let base: ReductionConfig | null;
  let description: string;
  if (choice === null) {
    name = 'unreduced';
    base = null;
    description = 'no reduction';
  } else if (choice === undefined || choice === MODEL_SCHEDULE) {
    name = MODEL_SCHEDULE;
    base = ctx.modelSchedule ?? null;
    description = base ? "the checkpoint's own schedule" : 'the checkpoint has no schedule: no reduction';
  } else if (typeof choice === 'string') {
    const s = findSchedule(choice);
    if (!s) {
      throw new ConfigError(
        'schedule',
        `unknown schedule "${choice}" (expected one of ${scheduleNames(family).join(', ')})`,
      );
    }
    if (!scheduleAppliesTo(s, family)) {
      throw new ConfigError(
        'schedule',
        `"${choice}" is a ${FAMILY_NAMES[s.family ?? family]} schedule, not for a ${FAMILY_NAMES[family]} model (expected one of ${scheduleNames(family).join(', ')})`,
      );
    }
    name = s.name;
    base = namedSchedule(s.name, numLayers);
    description =
      s.description +
      (s.config && s.depth !== numLayers ? `, scaled to ${numLayers} ${depthUnit(family)}` : '');
  } else {
    name = 'custom';
    base = choice;
    description = 'a schedule given in full';
  }
  if (hasOverrides(ctx.overrides)) {
    const o = ctx.overrides;
    const start = base ?? NO_REDUCTION;
    base = {
      ...start,
      reduceLayers: o.reduceLayers ?? start.reduceLayers,
      pruneRatio: o.pruneRatio ?? start.pruneRatio,
      mergeRatio: o.mergeRatio ?? start.mergeRatio,
      textMergeRatio: o.textMergeRatio ?? start.textMergeRatio,
      saliency: o.saliency ?? start.saliency,
      mergeStyle: o.mergeStyle ?? start.mergeStyle,
      trainingFree: o.trainingFree ?? start.trainingFree,
    };
    description = `${name} with overrides`;
    name = 'custom';
  }
  const config = base === null ? null : validateReductionConfig(base, numLayers);
  return { name, config, description };
}

/** One line: `layers 2,5,8 prune 0.1 merge 0.3 text 0.2 first_head/tip` (then ` training-free` if on), or `no reduction`; METER's indices read `steps`. */
export function describeSchedule(
  config: ReductionConfig | null,
  family: ModelFamily = DEFAULT_MODEL_FAMILY,
): string {
  if (!config || config.reduceLayers.length === 0) return 'no reduction';
  const tome = config.tomeCount ? ` tome ${config.tomeCount}` : '';
  const free = config.trainingFree ? ' training-free' : '';
  return `${depthUnit(family)} ${config.reduceLayers.join(',')} prune ${config.pruneRatio} merge ${config.mergeRatio} text ${config.textMergeRatio} ${config.saliency}/${config.mergeStyle}${tome}${free}`;
}
