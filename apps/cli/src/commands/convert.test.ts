import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hasSharedData, sharedPath } from '@pumer/testkit/node';
import { bundledImages, defaultModelDir } from '@pumer/vilt/node';
import { describe, expect, it } from 'vitest';
import { runCli } from '../testing.js';

const scratch = () => mkdtempSync(path.join(os.tmpdir(), 'pumer-convert-'));
const image = bundledImages()[0]!;

async function logits(argv: string[]): Promise<number[]> {
  const r = await runCli(['run', ...argv, '--image', image.path, '--backend', 'cpu', '--json']);
  expect(r.code, r.stderr).toBe(0);
  const json = JSON.parse(r.stdout);
  // Every label's logit, in label order: the best answer's is the highest.
  expect(json.logits).toHaveLength(json.labels.length);
  expect(json.logits[json.labels.indexOf(json.answer)]).toBe(Math.max(...json.logits));
  return json.logits;
}

describe('pumer convert', () => {
  it('writes a Hugging Face checkpoint that runs like its input, schedule included', async () => {
    const out = path.join(scratch(), 'tiny');
    const r = await runCli(['convert', '--model', defaultModelDir(), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Hugging Face layout, with its PuMer schedule');
    expect(readdirSync(out).sort()).toEqual([
      'config.json',
      'model.safetensors',
      'preprocessor_config.json',
      'tokenizer.json',
    ]);
    expect(await logits(['--model', out])).toEqual(await logits(['--model', defaultModelDir()]));
  });

  it('refuses a non-empty --out unless --force, with one line and exit 2', async () => {
    const out = scratch();
    writeFileSync(path.join(out, 'notes.txt'), 'mine');
    const refused = await runCli(['convert', '--model', defaultModelDir(), '--out', out]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^pumer: error: --out is not empty: .* \(--force writes into it\)\n$/);
    expect(readdirSync(out)).toEqual(['notes.txt']);
    const forced = await runCli(['convert', '--model', defaultModelDir(), '--out', out, '--force', '--json']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ from: 'hf', labels: 14, schedule: true });
    expect(readdirSync(out)).toContain('notes.txt');
  });

  it('a missing model or a --out that is a file: one line, exit 2', async () => {
    const dir = scratch();
    const file = path.join(dir, 'file');
    writeFileSync(file, '');
    mkdirSync(path.join(dir, 'empty'));
    for (const [argv, pattern] of [
      [['--model', path.join(dir, 'nope'), '--out', path.join(dir, 'o')], /model directory not found/],
      [['--model', defaultModelDir(), '--out', file], /--out exists and is not a directory/],
      [['--model', defaultModelDir(), '--out', defaultModelDir()], /--out is the model directory itself/],
    ] as const) {
      const r = await runCli(['convert', ...argv]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
    }
  });

  describe.skipIf(!hasSharedData('real', 'authors', 'vqa'))("the authors' checkpoint", () => {
    const authors = (...p: string[]) => sharedPath('real', 'authors', ...p);

    it('needs --tokenizer; converted, it runs without --tokenizer or --labels, reducers on and off', async () => {
      const out = path.join(scratch(), 'authors');
      const missing = await runCli(['convert', '--model', authors('vqa'), '--out', out]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/^pumer: error: .*no tokenizer: .*--tokenizer\)\n$/);
      const tokenizer = ['--tokenizer', authors('tokenizer.json')];
      const r = await runCli(['convert', '--model', authors('vqa'), '--out', out, ...tokenizer]);
      expect(r.code, r.stderr).toBe(0);
      for (const schedule of ['model', 'unreduced']) {
        const want = await logits(['--model', authors('vqa'), ...tokenizer, '--schedule', schedule]);
        const got = await logits(['--model', out, '--schedule', schedule]);
        expect(got).toHaveLength(want.length);
        expect(Math.max(...got.map((g, i) => Math.abs(g - want[i]!)))).toBeLessThan(1e-5);
      }
    });
  });
});
