import { namedSchedule, schedule, VILT_B32_GEOMETRY } from '@pumer/core';

const PAPER = namedSchedule('paper', 12);
import { describe, expect, it } from 'vitest';
import { runCli } from '../testing.js';

describe('pumer schedule', () => {
  it('prints the paper schedule on ViLT-B/32 with the scheduler figures', async () => {
    const r = await runCli([
      'schedule',
      '--layers',
      '2,5,8',
      '--prune',
      '0.1',
      '--merge',
      '0.3',
      '--text-merge',
      '0.2',
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const ideal = schedule(VILT_B32_GEOMETRY, PAPER).idealSpeedup;
    expect(r.stdout).toContain(`${ideal.toFixed(3)}×`);
    // layer 2 is the first reduce layer: 40 text + 145 image tokens in.
    expect(r.stdout).toMatch(/^\s+2\s+pumer\s+40→32\s+145→87/m);
  });

  it('--json matches core.schedule() exactly', async () => {
    const r = await runCli(['schedule', '--json', '--schedule', 'paper']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    const s = schedule(VILT_B32_GEOMETRY, PAPER);
    expect(json.idealSpeedup).toBe(s.idealSpeedup);
    expect(json.flops).toBe(s.flops);
    expect(json.peakActivationBytes).toBe(s.peakActivationBytes);
    expect(json.layers.map((l: { textOut: number; imageOut: number }) => [l.textOut, l.imageOut])).toEqual(
      s.layers.map((l) => [l.textTokens, l.imageTokens]),
    );
    expect(json.schedule.config.reduceLayers).toEqual([2, 5, 8]);
    expect(json.geometry.name).toBe('vilt-b32');
  });

  it('flags override a named schedule; --saliency and --style pass through', async () => {
    const r = await runCli([
      'schedule',
      '--json',
      '--geometry',
      'tiny',
      '--schedule',
      'aggressive',
      '--prune',
      '0.2',
      '--style',
      'tome',
      '--saliency',
      'k_metric',
    ]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.schedule.name).toBe('custom');
    expect(json.schedule.config).toMatchObject({
      reduceLayers: [0, 2, 4],
      pruneRatio: 0.2,
      mergeRatio: 0.5,
      saliency: 'k_metric',
      mergeStyle: 'tome',
    });
  });

  it('with no flags at all: the paper schedule on ViLT-B/32', async () => {
    const r = await runCli(['schedule', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.geometry.name).toBe('vilt-b32');
    expect(json.schedule).toMatchObject({ name: 'paper', config: { reduceLayers: [2, 5, 8] } });
    expect(json.idealSpeedup).toBe(schedule(VILT_B32_GEOMETRY, PAPER).idealSpeedup);
  });

  it('--geometry tiny alone: the default (paper) resolves on 6 layers, text and --json', async () => {
    const r = await runCli(['schedule', '--geometry', 'tiny']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^geometry tiny: 6 layers, hidden 64, 16 text \+ 65 image tokens$/m);
    expect(r.stdout).toMatch(/^schedule paper: layers 1,2,4 .*scaled to 6 layers\)$/m);
    const json = JSON.parse((await runCli(['schedule', '--geometry', 'tiny', '--json'])).stdout);
    expect(json.schedule).toMatchObject({ name: 'paper', config: { reduceLayers: [1, 2, 4] } });
    expect(json.layers.map((l: { kind: string }) => l.kind)).toEqual([
      'none',
      'pumer',
      'pumer',
      'none',
      'pumer',
      'none',
    ]);
    expect(json.idealSpeedup).toBeGreaterThan(1);
  });

  it('named schedules scale to the geometry: paper on tiny, aggressive on ViLT-B/32', async () => {
    const paper = JSON.parse(
      (await runCli(['schedule', '--json', '--geometry', 'tiny', '--schedule', 'paper'])).stdout,
    );
    expect(paper.schedule.config.reduceLayers).toEqual([1, 2, 4]);
    const aggressive = JSON.parse((await runCli(['schedule', '--json', '--schedule', 'aggressive'])).stdout);
    expect(aggressive.schedule.config.reduceLayers).toEqual([0, 4, 8]);
    const text = (await runCli(['schedule', '--schedule', 'aggressive'])).stdout;
    expect(text).toMatch(
      /^schedule aggressive: layers 0,4,8 prune 0.3 merge 0.5 text 0.2 first_head\/tip \(.*scaled to 12 layers\)$/m,
    );
  });

  it('--saliency takes the aliases core takes', async () => {
    const r = await runCli(['schedule', '--json', '--schedule', 'pumer', '--saliency', 'km']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).schedule.config.saliency).toBe('k_metric');
  });

  it('unreduced has an ideal speed-up of exactly 1', async () => {
    const r = await runCli(['schedule', '--json', '--schedule', 'unreduced', '--geometry', 'tiny']);
    expect(JSON.parse(r.stdout).idealSpeedup).toBe(1);
  });
});
