import { describe, expect, it } from 'vitest';
import { validateReductionConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import { describeSchedule, namedSchedule, resolveSchedule } from '../schedules.js';
import { SALIENCY_RULES } from './saliency-methods.js';
import { trainingFreeSaliencyRule } from './training-free.js';

describe('training-free mode', () => {
  it('reads attention saliency over every head; the keys methods are unchanged', () => {
    expect(trainingFreeSaliencyRule(SALIENCY_RULES.first_head).heads).toBe('mean');
    expect(trainingFreeSaliencyRule(SALIENCY_RULES.mean_head)).toBe(SALIENCY_RULES.mean_head);
    expect(trainingFreeSaliencyRule(SALIENCY_RULES.k_metric)).toBe(SALIENCY_RULES.k_metric);
    expect(trainingFreeSaliencyRule(SALIENCY_RULES.qk)).toBe(SALIENCY_RULES.qk);
  });

  it('is a validated switch of the config, absent when off', () => {
    const pumer = namedSchedule('pumer', 6)!;
    expect(validateReductionConfig({ ...pumer, trainingFree: true }).trainingFree).toBe(true);
    expect('trainingFree' in validateReductionConfig({ ...pumer, trainingFree: false })).toBe(false);
    expect(() => validateReductionConfig({ ...pumer, trainingFree: 'yes' as unknown as boolean })).toThrow(
      ConfigError,
    );
  });

  it('is an override of the resolver and shows in the schedule line', () => {
    const r = resolveSchedule('pumer', { numLayers: 6, overrides: { trainingFree: true } });
    expect(r.config?.trainingFree).toBe(true);
    expect(r.config?.reduceLayers).toEqual([1, 3]);
    expect(describeSchedule(r.config)).toBe(
      'layers 1,3 prune 0.1 merge 0.3 text 0.2 first_head/tip training-free',
    );
    const off = resolveSchedule(
      { ...r.config!, trainingFree: true },
      {
        numLayers: 6,
        overrides: { trainingFree: false },
      },
    );
    expect(off.config?.trainingFree).toBeUndefined();
  });
});
