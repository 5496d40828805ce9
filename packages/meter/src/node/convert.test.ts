import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCpuBackend } from '@pumer/backend-cpu';
import { compareMeterOutputs } from '@pumer/testkit';
import { meterModelDir, readMeterModelCases } from '@pumer/testkit/node';
import { describe, expect, it } from 'vitest';
import { convertMeter } from './convert.js';
import { loadMeter } from './load.js';

describe('convertMeter', () => {
  it('writes the safetensors layout, which loads to the same logits on cpu', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'pumer-meter-')), 'converted');
    const done = convertMeter(meterModelDir('tiny-meter-ve'), out);
    expect(done.files.map((f) => f.name)).toEqual([
      'config.json',
      'text_config.json',
      'model.safetensors',
      'tokenizer.json',
    ]);
    expect(readdirSync(out).sort()).toEqual([
      'config.json',
      'model.safetensors',
      'text_config.json',
      'tokenizer.json',
    ]);
    expect(existsSync(join(out, 'pytorch_model.bin'))).toBe(false);
    const original = loadMeter(meterModelDir('tiny-meter-ve'));
    const converted = loadMeter(out);
    expect(converted.reduction).toEqual(original.reduction);
    const cases = readMeterModelCases('tiny-meter-ve');
    const backend = createCpuBackend();
    const a = await backend.runMeter(original.model, cases.inputs, original.reduction);
    const b = await backend.runMeter(converted.model, cases.inputs, converted.reduction);
    expect(Array.from(b.logits.data)).toEqual(Array.from(a.logits.data));
    expect(compareMeterOutputs(b, cases.reduced).problems).toEqual([]);
  });

  it('refuses to write into the checkpoint itself or a non-empty folder', () => {
    const dir = meterModelDir('tiny-meter-ve');
    expect(() => convertMeter(dir, dir)).toThrow(/is the checkpoint directory itself/);
    const out = mkdtempSync(join(tmpdir(), 'pumer-meter-'));
    writeFileSync(join(out, 'x'), '');
    expect(() => convertMeter(dir, out)).toThrow(/is not empty/);
    expect(convertMeter(dir, out, { force: true }).files).toHaveLength(4);
  });
});
