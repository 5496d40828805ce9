import { describe, expect, it } from 'vitest';
import {
  type ReductionConfig,
  reductionConfigFromReference,
  validateMeterReductionConfig,
  validateReductionConfig,
} from './config.js';
import { ConfigError } from './errors.js';
import { namedSchedule } from './schedules.js';

const PAPER_SCHEDULE = namedSchedule('paper', 12)!;

function expectFieldError(cfg: unknown, field: string, numLayers = 12): void {
  let caught: unknown;
  try {
    validateReductionConfig(cfg as ReductionConfig, numLayers);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  expect((caught as ConfigError).field).toBe(field);
  expect((caught as ConfigError).message).toContain(field);
}

describe('validateReductionConfig', () => {
  it('accepts the paper schedule and sorts layers', () => {
    const v = validateReductionConfig({ ...PAPER_SCHEDULE, reduceLayers: [8, 2, 5] }, 12);
    expect(v.reduceLayers).toEqual([2, 5, 8]);
  });

  it.each([
    ['pruneRatio', -0.1],
    ['pruneRatio', 1],
    ['pruneRatio', Number.NaN],
    ['mergeRatio', 1.5],
    ['mergeRatio', -1],
    ['mergeRatio', Number.NaN],
    ['textMergeRatio', 1],
    ['textMergeRatio', Number.NaN],
    ['textMergeRatio', '0.2'],
  ])('names %s when it is %s', (field, value) => {
    expectFieldError({ ...PAPER_SCHEDULE, [field]: value }, field);
  });

  it('rejects a layer out of range', () => {
    expectFieldError({ ...PAPER_SCHEDULE, reduceLayers: [2, 12] }, 'reduceLayers');
    expectFieldError({ ...PAPER_SCHEDULE, reduceLayers: [-1] }, 'reduceLayers');
  });

  it('rejects duplicate and non-integer layers', () => {
    expectFieldError({ ...PAPER_SCHEDULE, reduceLayers: [2, 2] }, 'reduceLayers');
    expectFieldError({ ...PAPER_SCHEDULE, reduceLayers: [2.5] }, 'reduceLayers');
  });

  it('rejects unknown saliency and merge style', () => {
    expectFieldError({ ...PAPER_SCHEDULE, saliency: 'second_head' }, 'saliency');
    expectFieldError({ ...PAPER_SCHEDULE, mergeStyle: 'average' }, 'mergeStyle');
  });

  it('rejects non-integer and negative token counts', () => {
    expectFieldError({ ...PAPER_SCHEDULE, tomeCount: 2.5 }, 'tomeCount');
    expectFieldError({ ...PAPER_SCHEDULE, tomeCount: -1 }, 'tomeCount');
  });
});

describe('reductionConfigFromReference', () => {
  it('reads a ratio merge_r as mergeRatio and an integer one as the ToMe count', () => {
    const a = reductionConfigFromReference(
      { prune_r: 0.1, merge_r: 0.3, merge_text: 0.2, sim_method: 'qk', merge_style: 'diff' },
      [0],
    );
    expect(a).toMatchObject({
      pruneRatio: 0.1,
      mergeRatio: 0.3,
      textMergeRatio: 0.2,
      saliency: 'qk',
      mergeStyle: 'diff',
      tomeCount: 0,
    });
    const b = reductionConfigFromReference({ prune_r: 0, merge_r: 4 }, [0]);
    expect(b).toMatchObject({ mergeRatio: 0, tomeCount: 4 });
  });

  it('rejects a non-integer count above 1', () => {
    expect(() => reductionConfigFromReference({ merge_r: 2.5 })).toThrow(ConfigError);
  });
});

describe('validateMeterReductionConfig', () => {
  const meterVqa: ReductionConfig = {
    reduceLayers: [0, 1, 2, 3],
    pruneRatio: 0.2,
    mergeRatio: 0.2,
    textMergeRatio: 0.2,
    saliency: 'mean_head',
    mergeStyle: 'tome',
  };
  it('accepts a METER schedule over its steps and refuses steps past the last', () => {
    expect(validateMeterReductionConfig(meterVqa, 6).reduceLayers).toEqual([0, 1, 2, 3]);
    expect(() => validateMeterReductionConfig(meterVqa, 2)).toThrow(/reduceLayers.*layer 2 is out of range/);
  });
  it('refuses the training-free mode, which METER does not have', () => {
    const err = (() => {
      try {
        validateMeterReductionConfig({ ...meterVqa, trainingFree: true }, 6);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(String(err)).toMatch(/trainingFree.*METER has no training-free mode/);
  });
});
