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
    ['meter-vqa', 6, [0, 1, 2, 3]],
    ['meter-vqa', 2, [0, 1]],
    ['meter-ve', 6, [0, 1, 2, 3]],
    ['meter-nlvr2', 6, [1, 2, 3]],
    ['meter-nlvr2', 2, [0, 1]],
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
  it('knows every registered name, alias, and model; per family those that run on it', () => {
    const vilt = ['unreduced', 'none', 'off', 'paper', 'pumer', 'aggressive', 'vqa', 've', 'nlvr2'];
    const meter = ['unreduced', 'none', 'off', 'meter-vqa', 'meter-ve', 'meter-nlvr2'];
    expect(scheduleNames('vilt')).toEqual([...vilt, 'model']);
    expect(scheduleNames('meter')).toEqual([...meter, 'model']);
    expect(scheduleNames()).toEqual([...vilt, 'meter-vqa', 'meter-ve', 'meter-nlvr2', 'model']);
    expect(listSchedules('meter').map((s) => s.name)).toEqual([
      'unreduced',
      'meter-vqa',
      'meter-ve',
      'meter-nlvr2',
    ]);
    for (const family of ['vilt', 'meter'] as const) {
      for (const name of scheduleNames(family)) {
        expect(() => resolveSchedule(name, { numLayers: 6, family })).not.toThrow();
      }
    }
  });

  it('refuses a schedule of the other family, naming the right ones; no family means ViLT', () => {
    expect(() => resolveSchedule('meter-vqa', { numLayers: 12 })).toThrow(
      '"meter-vqa" is a METER schedule, not for a ViLT model (expected one of unreduced, none, off, paper, pumer, aggressive, vqa, ve, nlvr2, model)',
    );
    expect(() => resolveSchedule('paper', { numLayers: 6, family: 'meter' })).toThrow(
      '"paper" is a ViLT schedule, not for a METER model (expected one of unreduced, none, off, meter-vqa, meter-ve, meter-nlvr2, model)',
    );
    expect(() => resolveSchedule('fastest', { numLayers: 6, family: 'meter' })).toThrow(
      /expected one of unreduced, none, off, meter-vqa, meter-ve, meter-nlvr2, model/,
    );
  });

  it("METER's schedules: the authors' steps and ratios, mean_head / tome, scaled in steps", () => {
    expect(resolveSchedule('meter-ve', { numLayers: 6, family: 'meter' }).config).toMatchObject({
      reduceLayers: [0, 1, 2, 3],
      pruneRatio: 0.3,
      mergeRatio: 0.5,
      textMergeRatio: 0.2,
      saliency: 'mean_head',
      mergeStyle: 'tome',
    });
    expect(resolveSchedule('meter-vqa', { numLayers: 2, family: 'meter' }).description).toMatch(
      /scaled to 2 steps$/,
    );
    // Overrides and `model` work for METER as for ViLT.
    expect(
      resolveSchedule('meter-vqa', { numLayers: 6, family: 'meter', overrides: { pruneRatio: 0.4 } }).config,
    ).toMatchObject({ reduceLayers: [0, 1, 2, 3], pruneRatio: 0.4 });
    expect(
      resolveSchedule('model', { numLayers: 6, family: 'meter', modelSchedule: CHECKPOINT }).config,
    ).toEqual(CHECKPOINT);
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
        name: 'odd',
        description: '',
        depth: 4,
        family: 'clip' as 'vilt',
        config: null,
      }),
    ).toThrow(/family must be one of vilt, meter/);
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
    expect(describeSchedule(namedSchedule('meter-ve', 6), 'meter')).toBe(
      'steps 0,1,2,3 prune 0.3 merge 0.5 text 0.2 mean_head/tome',
    );
    expect(describeSchedule({ ...CHECKPOINT, reduceLayers: [] })).toBe('no reduction');
  });
});
