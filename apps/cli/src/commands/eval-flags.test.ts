import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundledImages, defaultModelDir } from '@pumer/vilt/node';
import { describe, expect, it } from 'vitest';
import { runCli } from '../testing.js';

function evalSet(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pumer-eval-flags-'));
  const file = path.join(dir, 'eval.jsonl');
  writeFileSync(
    file,
    bundledImages()
      .map((i) => JSON.stringify({ image: i.path, question: i.question, answer: i.answer }))
      .join('\n') + '\n',
  );
  return file;
}

describe('pumer eval: the schedule flags of pumer run', () => {
  const data = evalSet();
  const model = defaultModelDir();

  it('--layers --prune --merge --text-merge --saliency --style --training-free override the schedule', async () => {
    const r = await runCli([
      'eval',
      ...[
        '--model',
        model,
        '--data',
        data,
        '--schedule',
        'pumer',
        '--backend',
        'node',
        '--limit',
        '2',
        '--json',
      ],
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
    const off = await runCli([
      'eval',
      ...[
        '--model',
        model,
        '--data',
        data,
        '--schedule',
        'pumer',
        '--backend',
        'node',
        '--limit',
        '2',
        '--json',
      ],
      '--no-training-free',
    ]);
    expect(off.code, off.stderr).toBe(0);
    expect(JSON.parse(off.stdout).schedule.config.trainingFree).toBeUndefined();
    const on = await runCli([
      'eval',
      ...[
        '--model',
        model,
        '--data',
        data,
        '--schedule',
        'pumer',
        '--backend',
        'node',
        '--limit',
        '2',
        '--training-free',
      ],
    ]);
    expect(on.code, on.stderr).toBe(0);
    expect(on.stdout).toMatch(/first_head\/tip training-free/);
  }, 60_000);
});
