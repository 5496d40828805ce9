import {
  MERGE_STYLES,
  type MergeStyle,
  type ModelGeometry,
  PAPER_SCHEDULE,
  type ReductionConfig,
  SALIENCY_METHODS,
  type Saliency,
  VILT_B32_GEOMETRY,
  validateReductionConfig,
} from '@pumer/core';
import { InvalidArgumentError } from 'commander';
import { NAMED_SCHEDULES } from '@pumer/vilt';
import { CliError } from './errors.js';

/**
 * The named schedules every command understands. `model` is resolved against a checkpoint (its config.json
 * "pumer" section); `pumer` is the reference run's recipe for the 6-layer tiny model (from @pumer/vilt);
 * `paper` is the paper's ViLT-B/32 schedule; `aggressive` reduces early and hard, scaled to the depth:
 * layers 0,2,4 on the tiny model (the reference run's) and 0,2,4,6 on 12-layer models (the benchmark's).
 */
export const SCHEDULE_NAMES = ['unreduced', 'off', 'model', 'pumer', 'aggressive', 'paper'] as const;
export type ScheduleName = (typeof SCHEDULE_NAMES)[number];

export const PUMER_SCHEDULE: ReductionConfig = NAMED_SCHEDULES.pumer;
export const AGGRESSIVE_SCHEDULE: ReductionConfig = NAMED_SCHEDULES.aggressive;

/** `aggressive` for a model of `numLayers` layers: every other layer from 0, in the first ~60% of the depth. */
export function aggressiveSchedule(numLayers: number): ReductionConfig {
  if (numLayers < 12) return AGGRESSIVE_SCHEDULE;
  return { ...AGGRESSIVE_SCHEDULE, reduceLayers: [0, 2, 4, 6] };
}

function fixedSchedule(name: ScheduleName, numLayers: number): ReductionConfig | null {
  switch (name) {
    case 'pumer':
      return PUMER_SCHEDULE;
    case 'aggressive':
      return aggressiveSchedule(numLayers);
    case 'paper':
      return PAPER_SCHEDULE;
    default:
      return null;
  }
}

/** Per-flag overrides of a schedule (`--layers --prune --merge --text --saliency --style`). */
export interface ScheduleOverrides {
  layers?: number[];
  prune?: number;
  merge?: number;
  text?: number;
  saliency?: Saliency;
  style?: MergeStyle;
}

export function hasOverrides(o: ScheduleOverrides): boolean {
  return (
    o.layers !== undefined ||
    o.prune !== undefined ||
    o.merge !== undefined ||
    o.text !== undefined ||
    o.saliency !== undefined ||
    o.style !== undefined
  );
}

export function checkScheduleName(name: string): ScheduleName {
  if (!(SCHEDULE_NAMES as readonly string[]).includes(name)) {
    throw new CliError(`unknown schedule "${name}" (expected one of ${SCHEDULE_NAMES.join(', ')})`);
  }
  return name as ScheduleName;
}

export interface ResolvedSchedule {
  /** What the user asked for ('custom' when flags overrode a named schedule). */
  readonly name: string;
  /** null: no reduction. Validated against the model's layer count. */
  readonly config: ReductionConfig | null;
}

/**
 * Turns a schedule name (+ overrides) into a validated config for a model with `numLayers` layers.
 * `modelSchedule` is the checkpoint's own schedule, if it has one.
 */
export function resolveSchedule(
  name: string,
  overrides: ScheduleOverrides,
  numLayers: number,
  modelSchedule: ReductionConfig | null | undefined,
): ResolvedSchedule {
  const known = checkScheduleName(name);
  let base: ReductionConfig | null;
  if (known === 'model') {
    if (!modelSchedule) {
      throw new CliError(
        'schedule "model": this checkpoint has no "pumer" section in config.json (use unreduced, pumer, aggressive or paper)',
      );
    }
    base = modelSchedule;
  } else {
    base = fixedSchedule(known, numLayers);
  }
  const custom = hasOverrides(overrides);
  if (custom) {
    const start: ReductionConfig = base ?? {
      reduceLayers: [],
      pruneRatio: 0,
      mergeRatio: 0,
      textMergeRatio: 0,
      saliency: 'first_head',
      mergeStyle: 'tip',
    };
    base = {
      ...start,
      reduceLayers: overrides.layers ?? start.reduceLayers,
      pruneRatio: overrides.prune ?? start.pruneRatio,
      mergeRatio: overrides.merge ?? start.mergeRatio,
      textMergeRatio: overrides.text ?? start.textMergeRatio,
      saliency: overrides.saliency ?? start.saliency,
      mergeStyle: overrides.style ?? start.mergeStyle,
    };
  }
  if (base === null) return { name: known, config: null };
  const tooDeep = base.reduceLayers.filter((l) => l >= numLayers);
  if (tooDeep.length > 0) {
    const label = custom ? 'the requested schedule' : `schedule "${known}"`;
    throw new CliError(
      `${label} reduces layers ${base.reduceLayers.join(',')} and needs a model with at least ${Math.max(...base.reduceLayers) + 1} layers; this one has ${numLayers}` +
        (known === 'paper' && !custom
          ? ' (the paper schedule is for ViLT-B/32; try --schedule pumer or model)'
          : ''),
    );
  }
  return { name: custom ? 'custom' : known, config: validateReductionConfig(base, numLayers) };
}

/** A one-line description: `layers 2,5,8 prune 0.1 merge 0.3 text 0.2 first_head/tip`. */
export function describeConfig(config: ReductionConfig | null): string {
  if (!config) return 'no reduction';
  const tome = config.tomeCount ? ` tome ${config.tomeCount}` : '';
  return `layers ${config.reduceLayers.join(',')} prune ${config.pruneRatio} merge ${config.mergeRatio} text ${config.textMergeRatio} ${config.saliency}/${config.mergeStyle}${tome}`;
}

/** The tiny ShapesVQA ViLT: 6 layers, hidden 64, 4 heads, MLP 256, 16 text tokens, 64x64 images in 8x8 patches. */
export const TINY_GEOMETRY: ModelGeometry = Object.freeze({
  numLayers: 6,
  hiddenSize: 64,
  numHeads: 4,
  intermediateSize: 256,
  textTokens: 16,
  imageTokens: 65,
});

export const GEOMETRIES: Record<string, ModelGeometry> = {
  'vilt-b32': VILT_B32_GEOMETRY,
  tiny: TINY_GEOMETRY,
};

export function geometryByName(name: string): ModelGeometry {
  const g = GEOMETRIES[name];
  if (!g)
    throw new CliError(`unknown geometry "${name}" (expected one of ${Object.keys(GEOMETRIES).join(', ')})`);
  return g;
}

// ---- commander argument parsers: they throw InvalidArgumentError, which commander reports and we exit 2 with.

export function parseRatio(value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v))
    throw new InvalidArgumentError(`"${value}" is not a number.`);
  if (v < 0 || v >= 1) throw new InvalidArgumentError(`ratio must be in [0, 1), got ${value}.`);
  return v;
}

export function parseIntList(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.some((p) => !/^\d+$/.test(p))) {
    throw new InvalidArgumentError(`expected comma-separated non-negative integers, got "${value}".`);
  }
  return parts.map(Number);
}

export function parsePositiveIntList(value: string): number[] {
  const list = parseIntList(value);
  if (list.some((n) => n < 1)) throw new InvalidArgumentError(`expected positive integers, got "${value}".`);
  return list;
}

export function parsePositiveInt(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1)
    throw new InvalidArgumentError(`expected a positive integer, got "${value}".`);
  return Number(value);
}

export function parseNonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value.trim()))
    throw new InvalidArgumentError(`expected a non-negative integer, got "${value}".`);
  return Number(value);
}

export function parseSaliency(value: string): Saliency {
  if (!(SALIENCY_METHODS as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${SALIENCY_METHODS.join(', ')}.`);
  }
  return value as Saliency;
}

export function parseStyle(value: string): MergeStyle {
  if (!(MERGE_STYLES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${MERGE_STYLES.join(', ')}.`);
  }
  return value as MergeStyle;
}

export function parseScheduleName(value: string): ScheduleName {
  if (!(SCHEDULE_NAMES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${SCHEDULE_NAMES.join(', ')}.`);
  }
  return value as ScheduleName;
}
