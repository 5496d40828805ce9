import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultModelDir } from '@pumer/vilt/node';
import { describe, expect, it } from 'vitest';
import { bundledVqaSet, runCli } from '../testing.js';

describe('pumer eval: the schedule flags of pumer run', () => {
  const data = bundledVqaSet(mkdtempSync(path.join(os.tmpdir(), 'pumer-eval-flags-')), 'eval.jsonl');
  const model = defaultModelDir();
  // Two examples of the pumer schedule on the node backend: the flags under test come after these.
  const evalTwoOnNode = [
    'eval',
    ...['--model', model, '--data', data, '--schedule', 'pumer', '--backend', 'node', '--limit', '2'],
  ];

  it('--layers --prune --merge --text-merge --saliency --style --training-free override the schedule', async () => {
    const r = await runCli([
      ...evalTwoOnNode,
      '--json',
      ...['--layers', '2', '--prune', '0.2', '--merge', '0.4', '--text-merge', '0', '--saliency', 'km'],
      ...['--style', 'diff', '--training-free'],
    ]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.schedule.name).toBe('custom');
    expect(json.schedule.config).toEqual({
      reduceLayers: [2],
      pruneRatio: 0.2,
      mergeRatio: 0.4,
      textMergeRatio: 0,
      saliency: 'k_metric',
      mergeStyle: 'diff',
      tomeCount: 0,
      trainingFree: true,
    });
  }, 60_000);

  it('--no-training-free turns the mode off; the human output names it', async () => {
    const off = await runCli([...evalTwoOnNode, '--json', '--no-training-free']);
    expect(off.code, off.stderr).toBe(0);
    expect(JSON.parse(off.stdout).schedule.config.trainingFree).toBeUndefined();
    const on = await runCli([...evalTwoOnNode, '--training-free']);
    expect(on.code, on.stderr).toBe(0);
    expect(on.stdout).toMatch(/first_head\/tip training-free/);
  }, 60_000);
});
