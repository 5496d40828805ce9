import { describe, expect, it } from 'vitest';
import { validateReductionConfig } from './config.js';
import { ConfigError } from './errors.js';
import {
  describeSchedule,
  findSchedule,
  listSchedules,
  MODEL_SCHEDULE,
  namedSchedule,
  registerSchedule,
  resolveSchedule,
  scaleReduceLayers,
  scheduleNames,
} from './schedules.js';

/** As a loader returns it: validated (so with every optional field filled in). */
const CHECKPOINT = validateReductionConfig(
  {
    reduceLayers: [1, 3],
    pruneRatio: 0.2,
    mergeRatio: 0.2,
    textMergeRatio: 0,
    saliency: 'mean_head',
    mergeStyle: 'tome',
  },
  6,
);

describe('named schedules scale with depth', () => {
  it('floor(l · D / D0), duplicates dropped', () => {
    expect(scaleReduceLayers([2, 5, 8], 12, 6)).toEqual([1, 2, 4]);
    expect(scaleReduceLayers([0, 2, 4], 6, 12)).toEqual([0, 4, 8]);
    expect(scaleReduceLayers([1, 3], 6, 12)).toEqual([2, 6]);
    expect(scaleReduceLayers([0, 1, 2], 12, 2)).toEqual([0]);
    expect(scaleReduceLayers([2, 5, 8], 12, 12)).toEqual([2, 5, 8]);
  });

  it.each([
    ['paper', 12, [2, 5, 8]],
    ['paper', 6, [1, 2, 4]],
    ['pumer', 6, [1, 3]],
    ['pumer', 12, [2, 6]],
    ['aggressive', 6, [0, 2, 4]],
    ['aggressive', 12, [0, 4, 8]],
    ['vqa', 12, [2, 5, 8]],
    ['ve', 12, [2, 4, 6, 8]],
    ['ve', 6, [1, 2, 3, 4]],
    ['nlvr2', 12, [2, 5, 8]],
    ['nlvr2', 6, [1, 2, 4]],
  ])('%s on %i layers reduces at %j, ratios unchanged', (name, depth, layers) => {
    const config = namedSchedule(name, depth)!;
    const own = findSchedule(name)!.config!;
    expect(config).toMatchObject({ ...own, reduceLayers: layers });
  });

  it('unreduced and its aliases are no reduction at any depth', () => {
    for (const name of ['unreduced', 'none', 'off']) {
      expect(findSchedule(name)?.name).toBe('unreduced');
      expect(namedSchedule(name, 6)).toBeNull();
      expect(resolveSchedule(name, { numLayers: 12 })).toEqual({
        name: 'unreduced',
        config: null,
        description: 'no reduction: every layer sees every token',
      });
    }
  });
});

describe('resolveSchedule', () => {
  it('knows every registered name, alias, and model', () => {
    expect(scheduleNames()).toEqual([
      'unreduced',
      'none',
      'off',
      'paper',
      'pumer',
      'aggressive',
      'vqa',
      've',
      'nlvr2',
      'model',
    ]);
    for (const name of scheduleNames()) expect(() => resolveSchedule(name, { numLayers: 6 })).not.toThrow();
  });

  it('model is the checkpoint schedule, or no reduction (and says so) when it has none', () => {
    expect(resolveSchedule(MODEL_SCHEDULE, { numLayers: 6, modelSchedule: CHECKPOINT })).toEqual({
      name: 'model',
      config: CHECKPOINT,
      description: "the checkpoint's own schedule",
    });
    for (const modelSchedule of [null, undefined]) {
      expect(resolveSchedule('model', { numLayers: 6, modelSchedule })).toEqual({
        name: 'model',
        config: null,
        description: 'the checkpoint has no schedule: no reduction',
      });
    }
    // No choice at all means model.
    expect(resolveSchedule(undefined, { numLayers: 6, modelSchedule: CHECKPOINT }).config).toEqual(
      CHECKPOINT,
    );
    expect(resolveSchedule(null, { numLayers: 6, modelSchedule: CHECKPOINT }).config).toBeNull();
  });

  it('says when a named schedule was scaled', () => {
    expect(resolveSchedule('paper', { numLayers: 6 }).description).toMatch(/scaled to 6 layers$/);
    expect(resolveSchedule('paper', { numLayers: 12 }).description).not.toMatch(/scaled/);
  });

  it('applies overrides last, as a custom schedule, also on top of no reduction', () => {
    const r = resolveSchedule('aggressive', {
      numLayers: 6,
      overrides: { pruneRatio: 0.2, mergeStyle: 'tome', saliency: 'k_metric' },
    });
    expect(r.name).toBe('custom');
    expect(r.description).toBe('aggressive with overrides');
    expect(r.config).toMatchObject({ reduceLayers: [0, 2, 4], pruneRatio: 0.2, mergeRatio: 0.5 });
    const fromNothing = resolveSchedule('unreduced', { numLayers: 6, overrides: { reduceLayers: [2] } });
    expect(fromNothing.config).toMatchObject({ reduceLayers: [2], pruneRatio: 0, mergeRatio: 0 });
    // Overrides that are all undefined change nothing.
    expect(resolveSchedule('pumer', { numLayers: 6, overrides: { pruneRatio: undefined } }).name).toBe(
      'pumer',
    );
  });

  it('validates a given config for the depth and names what is wrong', () => {
    expect(resolveSchedule(CHECKPOINT, { numLayers: 6 })).toMatchObject({
      name: 'custom',
      config: CHECKPOINT,
    });
    expect(() => resolveSchedule({ ...CHECKPOINT, reduceLayers: [7] }, { numLayers: 6 })).toThrow(
      ConfigError,
    );
    expect(() => resolveSchedule('fastest', { numLayers: 6 })).toThrow(
      'unknown schedule "fastest" (expected one of unreduced, none, off, paper, pumer, aggressive, vqa, ve, nlvr2, model)',
    );
    expect(() => resolveSchedule('paper', { numLayers: 0 })).toThrow(/numLayers/);
  });
});

describe('registerSchedule', () => {
  it('adds a schedule every consumer can ask for by name, and refuses bad ones', () => {
    registerSchedule({
      name: 'late',
      description: 'the last layer only',
      depth: 4,
      config: { ...CHECKPOINT, reduceLayers: [3] },
    });
    expect(scheduleNames()).toContain('late');
    expect(listSchedules().at(-1)?.name).toBe('late');
    expect(resolveSchedule('late', { numLayers: 8 }).config?.reduceLayers).toEqual([6]);
    expect(() => registerSchedule({ name: 'model', description: '', depth: 12, config: null })).toThrow(
      ConfigError,
    );
    expect(() =>
      registerSchedule({
        name: 'deep',
        description: '',
        depth: 2,
        config: { ...CHECKPOINT, reduceLayers: [3] },
      }),
    ).toThrow(ConfigError);
  });
});

describe('describeSchedule', () => {
  it('one line, or "no reduction"', () => {
    expect(describeSchedule(namedSchedule('paper', 12))).toBe(
      'layers 2,5,8 prune 0.1 merge 0.3 text 0.2 first_head/tip',
    );
    expect(describeSchedule(null)).toBe('no reduction');
    expect(describeSchedule({ ...CHECKPOINT, reduceLayers: [] })).toBe('no reduction');
  });
});
