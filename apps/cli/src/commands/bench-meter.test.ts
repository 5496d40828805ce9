import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { METER_B16_288_GEOMETRY, METER_B16_384_GEOMETRY, meterSchedule, namedSchedule } from '@pumer/core';
import { parseMeterConfig } from '@pumer/meter';
import { describe, expect, it } from 'vitest';
import { syntheticMeterConfig, syntheticTextConfig } from '../bench/meter-synthetic.js';
import { TINY_METER_GEOMETRY } from '../geometries.js';
import { runCli } from '../testing.js';

describe('the synthetic METER checkpoint', () => {
  it.each([
    ['meter-b16-384', METER_B16_384_GEOMETRY],
    ['meter-b16-288', METER_B16_288_GEOMETRY],
    ['tiny-meter', TINY_METER_GEOMETRY],
  ])('%s: its config.json and text_config.json read back to exactly the geometry', (_, g) => {
    const config = parseMeterConfig(syntheticMeterConfig(g), syntheticTextConfig(g));
    expect(config.geometry).toEqual(g);
    expect(config).toMatchObject({ architecture: 'MeterForQuestionAnswering', reduction: null });
    expect(
      parseMeterConfig(syntheticMeterConfig(g, 'nlvr2'), syntheticTextConfig(g)).geometry.numImages,
    ).toBe(2);
  });
});

describe('pumer bench on a METER geometry', () => {
  it('times unreduced and the authors’ VQA and VE schedules side by side, with the ideal speed-ups', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'pumer-bench-meter-'));
    const r = await runCli([
      'bench',
      '--geometry',
      'tiny-meter',
      '--backend',
      'cpu',
      '--batch',
      '1,2',
      '--repeats',
      '1',
      '--warmup',
      '0',
      '--out',
      out,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({
      family: 'meter',
      task: 'vqa',
      geometry: { name: 'tiny-meter', imageTokens: 17 },
    });
    expect(
      json.rows.map((row: { batch: number; schedule: string }) => `${row.batch} ${row.schedule}`),
    ).toEqual(['1 unreduced', '1 meter-vqa', '1 meter-ve', '2 unreduced', '2 meter-vqa', '2 meter-ve']);
    for (const row of json.rows) {
      const s = meterSchedule(TINY_METER_GEOMETRY, namedSchedule(row.schedule, 2));
      expect(row.idealSpeedup).toBe(s.idealSpeedup);
      expect(row.coAttentionIdealSpeedup).toBe(s.coAttentionIdealSpeedup);
      expect(row.achievedOverIdeal).toBeCloseTo(row.speedup / s.idealSpeedup, 12);
      expect(row.runsMs).toHaveLength(1);
    }
    expect(existsSync(path.join(out, 'bench.json'))).toBe(true);
    const md = readFileSync(path.join(out, 'bench.md'), 'utf8');
    expect(md).toMatch(/^# PuMer\.js benchmark — METER tiny-meter$/m);
    expect(md).toMatch(/^\| cpu {5}\| typescript \| {5}1 \| meter-vqa /m);
    expect(md).toContain('--schedules unreduced,meter-vqa,meter-ve');
  });

  it('refuses --memory and a ViLT schedule on a METER geometry', async () => {
    const memory = await runCli(['bench', '--geometry', 'tiny-meter', '--memory', '--backend', 'cpu']);
    expect(memory.code).toBe(2);
    expect(memory.stderr).toMatch(/--memory is not available for the METER geometries/);
    const vilt = await runCli([
      'bench',
      '--geometry',
      'tiny-meter',
      '--schedules',
      'unreduced,paper',
      '--backend',
      'cpu',
    ]);
    expect(vilt.code).toBe(2);
    expect(vilt.stderr).toMatch(/"paper" is a ViLT schedule, not for a METER model/);
  });
});
