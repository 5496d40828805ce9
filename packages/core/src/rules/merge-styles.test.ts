import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import {
  clampMergeR,
  MERGE_STYLE_RULES,
  MERGE_STYLES,
  mergeLimit,
  mergeStyleRule,
  protectsFirst,
  unmergedOrder,
} from './merge-styles.js';

describe('merge style rules', () => {
  it('has one row per style, keyed by its own name', () => {
    expect(Object.keys(MERGE_STYLE_RULES).sort()).toEqual([...MERGE_STYLES].sort());
    for (const s of MERGE_STYLES) expect(MERGE_STYLE_RULES[s].style).toBe(s);
  });

  it('states the authors’ semantics: tip sums and protects, tome averages by size, diff pairs by saliency', () => {
    expect(MERGE_STYLE_RULES.tip).toMatchObject({
      match: 'cosine',
      scaleMetricBySaliency: true,
      protectFirst: true,
      combine: 'sum',
    });
    expect(MERGE_STYLE_RULES.tome).toMatchObject({
      match: 'cosine',
      protectFirst: 'optional',
      combine: 'size-weighted-mean',
    });
    expect(MERGE_STYLE_RULES.diff).toMatchObject({
      match: 'saliency-gap',
      protectFirst: false,
      combine: 'sum',
    });
  });

  it('protection: fixed for tip and diff, the caller’s choice (default on) for tome', () => {
    expect(protectsFirst(MERGE_STYLE_RULES.tip, false)).toBe(true);
    expect(protectsFirst(MERGE_STYLE_RULES.diff, true)).toBe(false);
    expect(protectsFirst(MERGE_STYLE_RULES.tome)).toBe(true);
    expect(protectsFirst(MERGE_STYLE_RULES.tome, false)).toBe(false);
    expect(unmergedOrder(true)).toBe('position');
    expect(unmergedOrder(false)).toBe('score');
  });

  it('clamps r to floor((n-1)/2) with a protected row and floor(n/2) without', () => {
    expect(mergeLimit(9, true)).toBe(4);
    expect(mergeLimit(9, false)).toBe(4);
    expect(mergeLimit(10, true)).toBe(4);
    expect(mergeLimit(10, false)).toBe(5);
    expect(mergeLimit(1, true)).toBe(0);
    expect(clampMergeR(7, 10, true)).toBe(4);
    expect(clampMergeR(2, 10, true)).toBe(2);
  });

  it('refuses an unknown style with a ConfigError naming the field', () => {
    expect(() => mergeStyleRule('mean')).toThrow(ConfigError);
    expect(() => mergeStyleRule('mean', 'merge_style')).toThrow(/merge_style must be one of tip, tome, diff/);
    expect(() => mergeStyleRule('toString')).toThrow(ConfigError);
  });
});
