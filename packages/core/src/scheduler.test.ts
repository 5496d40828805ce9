import { describe, expect, it } from 'vitest';
import type { ReductionConfig } from './config.js';
import { ConfigError } from './errors.js';
import { schedule, VILT_B32_GEOMETRY } from './scheduler.js';
import { namedSchedule } from './schedules.js';

const PAPER_SCHEDULE = namedSchedule('paper', 12)!;

describe('schedule() on ViLT-B/32 with the paper schedule', () => {
  const s = schedule(VILT_B32_GEOMETRY, PAPER_SCHEDULE);

  it('gives the token counts of the paper: (40,145)x2, (32,87)x3, (26,52)x3, (21,31)x4', () => {
    const counts = s.layers.map((l) => [l.textTokens, l.imageTokens]);
    const expected = [
      ...Array(2).fill([40, 145]),
      ...Array(3).fill([32, 87]),
      ...Array(3).fill([26, 52]),
      ...Array(4).fill([21, 31]),
    ];
    expect(counts).toEqual(expected);
  });

  it('gives an ideal FLOPs speed-up of 1.85 (within 0.01)', () => {
    expect(Math.abs(s.idealSpeedup - 1.85)).toBeLessThanOrEqual(0.01);
  });

  it('charges attention at the tokens before the reduce step and the MLP at those after', () => {
    const l2 = s.layers[2]!;
    expect(l2.plan.kind).toBe('pumer');
    expect(l2.flops).toBeLessThan(s.layers[1]!.flops);
    expect(l2.flops).toBeGreaterThan(s.layers[3]!.flops);
  });

  it('reports less activation memory summed over layers than the unreduced model', () => {
    expect(s.totalActivationBytes).toBeLessThan(s.baselineTotalActivationBytes);
    expect(s.peakActivationBytes).toBe(s.baselinePeakActivationBytes);
  });
});

describe('schedule() edge cases', () => {
  it('is the identity without a config', () => {
    const s = schedule(VILT_B32_GEOMETRY, null);
    expect(s.idealSpeedup).toBe(1);
    expect(s.layers.every((l) => l.textTokens === 40 && l.imageTokens === 145)).toBe(true);
  });

  it('switches a layer off when its prune count rounds to zero (no merge either)', () => {
    const cfg: ReductionConfig = { ...PAPER_SCHEDULE, reduceLayers: [0], pruneRatio: 0.01 };
    const s = schedule({ ...VILT_B32_GEOMETRY, imageTokens: 10 }, cfg);
    expect(s.layers[0]!.plan.kind).toBe('none');
    expect(s.layers[0]!.imageTokens).toBe(10);
  });

  it('runs the ToMe baseline over the whole sequence when pruning is off and a count is set', () => {
    const cfg: ReductionConfig = { ...PAPER_SCHEDULE, reduceLayers: [0], pruneRatio: 0, tomeCount: 4 };
    const s = schedule({ ...VILT_B32_GEOMETRY, textTokens: 8, imageTokens: 17 }, cfg);
    expect(s.layers[0]!.plan.kind).toBe('tome');
    expect([s.layers[0]!.textTokens, s.layers[0]!.imageTokens]).toEqual([8, 13]);
  });

  it('never keeps fewer than one image token', () => {
    const cfg: ReductionConfig = {
      ...PAPER_SCHEDULE,
      reduceLayers: [0, 1, 2, 3],
      pruneRatio: 0.99,
      mergeRatio: 0.99,
    };
    const s = schedule({ ...VILT_B32_GEOMETRY, imageTokens: 3 }, cfg);
    expect(s.layers.every((l) => l.imageTokens >= 1)).toBe(true);
  });

  it('rejects a geometry whose heads do not divide the hidden size', () => {
    expect(() => schedule({ ...VILT_B32_GEOMETRY, numHeads: 7 }, null)).toThrow(ConfigError);
  });
});
