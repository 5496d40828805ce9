import { PumerError } from '@pumer/core';
import { describe, expect, it } from 'vitest';
import { parseLabelList } from './labels.js';

describe('parseLabelList', () => {
  it('reads a JSON list of answers (index -> answer)', () => {
    expect(parseLabelList(['yes', 'no', '2'], 'answers.json')).toEqual(['yes', 'no', '2']);
  });

  it.each([
    [
      { yes: 0 },
      /answers.json: labels must be a JSON list of answers \(an object is the answer -> index form/,
    ],
    ['yes', /labels must be a JSON list of answers$/],
    [[], /the label list is empty/],
    [['yes', 1], /label 1 must be a string, got 1/],
    [['yes', 2n], /label 1 must be a string, got 2n/],
  ])('refuses %o with a CHECKPOINT error', (json, message) => {
    let err: unknown;
    try {
      parseLabelList(json, 'answers.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PumerError);
    expect((err as PumerError).code).toBe('CHECKPOINT');
    expect((err as PumerError).message).toMatch(message);
  });
});
