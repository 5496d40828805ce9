import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundledImages, defaultModelDir } from '@pumer/vilt/node';
import { describe, expect, it } from 'vitest';
import { bundledVqaSet, runCli, unscheduledCheckpoint } from '../testing.js';

describe('pumer eval', () => {
  const data = bundledVqaSet(mkdtempSync(path.join(os.tmpdir(), 'pumer-eval-')), 'eval.jsonl');
  const model = defaultModelDir();
  const n = bundledImages().length;

  it('--json: reduced run at the top level, the unreduced run, agreement and throughput', async () => {
    const r = await runCli(['eval', '--model', model, '--data', data, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(''); // no progress bar off a terminal
    const json = JSON.parse(r.stdout);
    expect(json.n).toBe(n);
    expect(json.predictions).toHaveLength(n);
    expect(json.accuracy).toBeGreaterThanOrEqual(0);
    expect(json.accuracy).toBeLessThanOrEqual(1);
    expect(json.schedule.name).toBe('model');
    // auto, the default, is onnxruntime-node in Node.
    expect(json.backend).toMatchObject({
      name: 'node',
      provider: 'cpu',
      reason: expect.stringMatching(/^auto: /),
    });
    expect(json.unreduced.predictions).toHaveLength(n);
    const agree =
      json.predictions.filter((p: string, i: number) => p === json.unreduced.predictions[i]).length / n;
    expect(json.agreement).toBe(agree);
    expect(json.throughput.reduced).toBeGreaterThan(0);
    expect(json.throughput.unreduced).toBeGreaterThan(0);
  });

  it('--schedule unreduced is a single run; --limit trims', async () => {
    const r = await runCli([
      'eval',
      '--model',
      model,
      '--data',
      data,
      '--schedule',
      'unreduced',
      '--limit',
      '2',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.n).toBe(2);
    expect(json.predictions).toHaveLength(2);
    expect(json.unreduced).toBeUndefined();
    expect(json.agreement).toBeUndefined();
    expect(typeof json.throughput).toBe('number');
  });

  it('human output reports both accuracies and the agreement', async () => {
    const r = await runCli([
      'eval',
      '--model',
      model,
      '--data',
      data,
      '--schedule',
      'aggressive',
      '--limit',
      '3',
    ]);
    expect(r.code, r.stderr).toBe(0);
    // The difference is signed, reduced minus unreduced: +, − (U+2212) or ± for none.
    expect(r.stdout).toMatch(
      /accuracy\s+\d+\.\d% reduced, \d+\.\d% unreduced \([+−±]\d+\.\d\d points vs unreduced\)/,
    );
    expect(r.stdout).toMatch(/agreement\s+\d+\.\d% of answers identical/);
    expect(r.stdout).toMatch(/^backend\s+node \(cpu\): auto: the best registered backend of node, cpu$/m);
    expect(r.stdout).toMatch(
      /^schedule aggressive: layers 0,2,4 prune 0.3 merge 0.5 text 0.2 first_head\/tip /m,
    );
  });

  it('model on a checkpoint without a schedule is one unreduced run, and says so', async () => {
    const plain = await unscheduledCheckpoint();
    const r = await runCli(['eval', '--model', plain, '--data', data, '--limit', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('schedule model: no reduction (the checkpoint has no schedule: no reduction)');
    expect(r.stdout).not.toMatch(/unreduced/);
    const json = JSON.parse(
      (await runCli(['eval', '--model', plain, '--data', data, '--limit', '2', '--json'])).stdout,
    );
    expect(json.schedule).toMatchObject({ name: 'model', config: null });
    expect(json.unreduced).toBeUndefined();
  });

  it('--backend cpu runs on the TypeScript reference', async () => {
    const r = await runCli([
      'eval',
      '--model',
      model,
      '--data',
      data,
      '--limit',
      '1',
      '--backend',
      'cpu',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).backend).toEqual({
      name: 'cpu',
      provider: 'typescript',
      reason: 'requested with --backend cpu',
    });
  });

  it('a missing data file is one line, exit 2', async () => {
    const r = await runCli(['eval', '--model', model, '--data', '/nonexistent/eval.jsonl']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('pumer: error: eval data not found: /nonexistent/eval.jsonl\n');
  });
});
