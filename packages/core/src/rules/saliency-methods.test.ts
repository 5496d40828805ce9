import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { findSaliencyMethod, SALIENCY_METHODS, SALIENCY_RULES, saliencyRule } from './saliency-methods.js';

describe('saliency method rules', () => {
  it('has one row per method', () => {
    expect(Object.keys(SALIENCY_RULES).sort()).toEqual([...SALIENCY_METHODS].sort());
  });

  it('accepts the authors’ aliases fh, mh, km', () => {
    expect(findSaliencyMethod('fh')).toBe('first_head');
    expect(findSaliencyMethod('mh')).toBe('mean_head');
    expect(findSaliencyMethod('km')).toBe('k_metric');
    expect(findSaliencyMethod('qk')).toBe('qk');
    expect(findSaliencyMethod('kq')).toBeUndefined();
    expect(findSaliencyMethod(3)).toBeUndefined();
  });

  it('says what each method reads', () => {
    expect(SALIENCY_RULES.first_head).toMatchObject({ source: 'attention', heads: 'first' });
    expect(SALIENCY_RULES.mean_head).toMatchObject({ source: 'attention', heads: 'mean' });
    expect(SALIENCY_RULES.k_metric).toMatchObject({ source: 'keys', textSide: 'keys' });
    expect(SALIENCY_RULES.qk).toMatchObject({ source: 'keys', textSide: 'queries' });
  });

  it('refuses an unknown name with a ConfigError listing names and aliases', () => {
    expect(() => saliencyRule('second_head', 'sim_method')).toThrow(ConfigError);
    expect(() => saliencyRule('second_head', 'sim_method')).toThrow(
      /sim_method must be one of first_head, fh, mean_head, mh/,
    );
  });
});
