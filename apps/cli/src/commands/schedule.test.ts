import {
  METER_B16_288_GEOMETRY,
  METER_B16_384_GEOMETRY,
  meterSchedule,
  namedSchedule,
  schedule,
  VILT_B32_GEOMETRY,
} from '@pumer/core';

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

describe('pumer schedule on METER geometries', () => {
  it.each(['meter-vqa', 'meter-ve', 'meter-nlvr2'])(
    '--geometry meter-b16-384 --schedule %s prints the step table and the ideal speed-ups',
    async (name) => {
      const r = await runCli(['schedule', '--geometry', 'meter-b16-384', '--schedule', name]);
      expect(r.code, r.stderr).toBe(0);
      const s = meterSchedule(METER_B16_384_GEOMETRY, namedSchedule(name, 6));
      expect(r.stdout).toMatch(
        /^geometry meter-b16-384: METER, 6 co-attention steps \(hidden 768\) after a 12-layer RoBERTa and a 11-block CLIP ViT \(not reduced\), 40 text \+ 577 image tokens$/m,
      );
      expect(r.stdout).toContain(
        `schedule ${name}: steps ${namedSchedule(name, 6)!.reduceLayers.join(',')} `,
      );
      expect(r.stdout).toContain(
        `ideal speed-up           ${s.idealSpeedup.toFixed(3)}× whole model (co-attention alone ${s.coAttentionIdealSpeedup.toFixed(3)}×`,
      );
      // One row per step with the text layer's tokens in and out.
      for (const x of s.steps) {
        expect(r.stdout).toMatch(
          new RegExp(
            `^\\s+${x.step}\\s+${x.plan.kind}\\s+${x.plan.textIn}→${x.textTokens}\\s+${x.plan.imageIn}→${x.imageTokens}\\s`,
            'm',
          ),
        );
      }
    },
  );

  it("--json matches core.meterSchedule() at 288 px; the default is the authors' VQA schedule", async () => {
    const r = await runCli(['schedule', '--json', '--geometry', 'meter-b16-288']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    const s = meterSchedule(METER_B16_288_GEOMETRY, namedSchedule('meter-vqa', 6));
    expect(json.geometry).toMatchObject({ name: 'meter-b16-288', family: 'meter', numSteps: 6 });
    expect(json.schedule).toMatchObject({ name: 'meter-vqa', config: { reduceLayers: [0, 1, 2, 3] } });
    expect([json.textTokens, json.imageTokens]).toEqual([40, 325]);
    expect(json.idealSpeedup).toBe(s.idealSpeedup);
    expect(json.coAttentionIdealSpeedup).toBe(s.coAttentionIdealSpeedup);
    expect(json.encoders.flops).toBe(s.encoders.flops);
    expect(json.steps.map((x: { textOut: number; imageOut: number }) => [x.textOut, x.imageOut])).toEqual(
      s.steps.map((x) => [x.textTokens, x.imageTokens]),
    );
  });

  it('flags override a METER schedule; unreduced has speed-up 1', async () => {
    const r = await runCli([
      'schedule',
      '--json',
      '--geometry',
      'meter-b16-384',
      '--schedule',
      'meter-vqa',
      '--layers',
      '1,2',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).schedule).toMatchObject({ name: 'custom', config: { reduceLayers: [1, 2] } });
    const off = await runCli([
      'schedule',
      '--json',
      '--geometry',
      'meter-b16-384',
      '--schedule',
      'unreduced',
    ]);
    expect(JSON.parse(off.stdout).idealSpeedup).toBe(1);
  });

  it('refuses a ViLT schedule on a METER geometry, a METER one on ViLT, and a layer beyond the steps', async () => {
    const vilt = await runCli(['schedule', '--geometry', 'meter-b16-384', '--schedule', 'paper']);
    expect(vilt.code).toBe(2);
    expect(vilt.stderr).toMatch(/"paper" is a ViLT schedule, not for a METER model/);
    const meter = await runCli(['schedule', '--schedule', 'meter-ve']);
    expect(meter.code).toBe(2);
    expect(meter.stderr).toMatch(/"meter-ve" is a METER schedule, not for a ViLT model/);
    const deep = await runCli(['schedule', '--geometry', 'meter-b16-288', '--layers', '6']);
    expect(deep.code).toBe(2);
    expect(deep.stderr).toMatch(/layer 6 is out of range/);
    const unknown = await runCli(['schedule', '--geometry', 'meter-b99']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /unknown geometry "meter-b99" \(expected one of vilt-b32, tiny, meter-b16-384/,
    );
  });
});
