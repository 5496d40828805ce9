import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundledImages, defaultModelDir, loadVilt } from '@pumer/vilt/node';
import { describe, expect, it } from 'vitest';
import { bundledVqaSet, runCli } from '../testing.js';

describe('pumer tune', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pumer-tune-'));
  const data = bundledVqaSet(dir, 'cal.jsonl');
  const model = defaultModelDir();
  const out = path.join(dir, 'tuned');

  it('writes a checkpoint copy whose config.json carries the chosen schedule, tune.json and frontier.svg', async () => {
    const r = await runCli(
      [
        'tune',
        ...['--model', model, '--data', data, '--out', out, '--backend', 'node'],
        ...['--max-drop', '100', '--tie', '0', '--quick', '--methods', '1', '--repeats', '2', '--json'],
      ],
      { cwd: dir },
    );
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(JSON.parse(readFileSync(path.join(out, 'tune.json'), 'utf8'))).toEqual(report);
    expect(report.n).toBe(bundledImages().length);
    expect(report.maxDrop).toBe(100);
    // A 100-point budget admits every schedule: the chosen one is the fastest measured of those timed.
    expect(report.chosen).not.toBeNull();
    const timed = report.points.filter((p: { measuredSpeedup?: number }) => p.measuredSpeedup !== undefined);
    expect(timed.length).toBeGreaterThanOrEqual(2);
    expect(report.chosen.measuredSpeedup).toBe(
      Math.max(...timed.map((p: { measuredSpeedup: number }) => p.measuredSpeedup)),
    );
    for (const p of report.points) expect(p.withinBudget).toBe(true);
    // The frontier: fastest first, each point more accurate than every faster one.
    const speed = (p: { measuredSpeedup?: number; predictedSpeedup: number }) =>
      p.measuredSpeedup ?? p.predictedSpeedup;
    for (let i = 1; i < report.frontier.length; i++) {
      expect(speed(report.frontier[i])).toBeLessThanOrEqual(speed(report.frontier[i - 1]));
      expect(report.frontier[i].accuracy).toBeGreaterThan(report.frontier[i - 1].accuracy);
    }
    const svg = readFileSync(path.join(out, 'frontier.svg'), 'utf8');
    expect(svg).toMatch(/^<svg /);
    expect(svg.match(/<circle /g)!.length).toBeGreaterThanOrEqual(report.points.length);
    // `--schedule model` on the copy runs the chosen schedule.
    const copy = loadVilt(out);
    expect(copy.reduction).toEqual(report.chosen.config);
    const run = await runCli(['run', '--model', out, '--schedule', 'model', '--backend', 'cpu', '--json'], {
      cwd: dir,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).schedule.config).toEqual(report.chosen.config);
  }, 120_000);

  it('a negative budget is a usage error; --out must be another folder than --model', async () => {
    const bad = await runCli(['tune', '--model', model, '--data', data, '--out', out, '--max-drop', '-1']);
    expect(bad.code).toBe(2);
    const same = await runCli(['tune', '--model', model, '--data', data, '--out', model]);
    expect(same.code).not.toBe(0);
    expect(same.stderr).toMatch(/--out must be another folder/);
  });
});
