import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { meterModelDir } from '@pumer/testkit/node';
import { describe, expect, it } from 'vitest';
import { thrown } from '../testing/thrown.js';
import { bundledTokenizerPath } from './assets.js';
import { isMeterCheckpoint, loadMeter, readMeterDir } from './load.js';

const vqaDir = meterModelDir('tiny-meter-vqa');

describe('loadMeter', () => {
  it('loads a tiny model with the bundled tokenizer its config.json names (tiny-roberta)', () => {
    const loaded = loadMeter(vqaDir);
    expect(loaded.model.kind).toBe('meter');
    expect(loaded.tokenizer.window).toBe(16);
    expect(readMeterDir(vqaDir).tokenizer).toEqual(
      JSON.parse(readFileSync(bundledTokenizerPath('tiny-roberta') as string, 'utf8')),
    );
    expect(bundledTokenizerPath('roberta-base')).toBeNull();
  });

  it('takes the tokenizer and labels from options (paths or values)', () => {
    const labels = 'abcdefghij'.split('');
    const scratch = mkdtempSync(join(tmpdir(), 'pumer-meter-'));
    writeFileSync(join(scratch, 'labels.json'), JSON.stringify(labels));
    const tokenizerDir = join(scratch, 'tok');
    mkdirSync(tokenizerDir);
    writeFileSync(join(tokenizerDir, 'tokenizer.json'), readFileSync(bundledTokenizerPath() as string));
    const loaded = loadMeter(vqaDir, { labels: join(scratch, 'labels.json'), tokenizer: tokenizerDir });
    expect(loaded.model.labels).toEqual(labels);
    expect(thrown(() => loadMeter(vqaDir, { labels: ['x'] })).message).toMatch(/the labels option: 1 labels/);
  });

  it('tells a METER checkpoint directory from others, never throwing', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'pumer-meter-'));
    writeFileSync(join(scratch, 'config.json'), '{"model_type": "vilt"');
    expect(isMeterCheckpoint(vqaDir)).toBe(true);
    expect(isMeterCheckpoint(scratch)).toBe(false);
    expect(isMeterCheckpoint(join(scratch, 'nothing'))).toBe(false);
  });

  it.each([
    ['a missing directory', (s: string) => join(s, 'nothing'), /does not exist/],
    ['a file', (s: string) => join(s, 'config.json'), /is not a directory/],
    [
      'a folder without weights',
      (s: string) => s,
      /has no weights: expected model.safetensors or pytorch_model.bin/,
    ],
  ])('refuses %s (CHECKPOINT)', (_what, path, message) => {
    const scratch = mkdtempSync(join(tmpdir(), 'pumer-meter-'));
    writeFileSync(join(scratch, 'config.json'), readFileSync(join(vqaDir, 'config.json')));
    const e = thrown(() => loadMeter(path(scratch)));
    expect(e.code).toBe('CHECKPOINT');
    expect(e.message).toMatch(message);
  });

  it('names the directory in errors from the files', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'pumer-meter-'));
    writeFileSync(join(scratch, 'config.json'), '{"model_type": "meter", "architectures": ["Nope"]}');
    writeFileSync(join(scratch, 'pytorch_model.bin'), readFileSync(join(vqaDir, 'pytorch_model.bin')));
    const e = thrown(() => loadMeter(scratch));
    expect(e.code).toBe('CONFIG');
    expect(e.message).toContain(`${scratch}: config.json: field "architectures" names "Nope"`);
  });
});
