import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCpuBackend } from '@pumer/backend-cpu';
import { PumerError } from '@pumer/core';
import { bundledTokenizerPath, createMeterPipeline, loadMeter } from '@pumer/meter/node';
import { meterModelDir } from '@pumer/testkit/node';
import { bundledImages, decodeImageFile, defaultModelDir } from '@pumer/vilt/node';
import { describe, expect, it } from 'vitest';
import type { FolderFile } from './checkpoint-folder.js';
import { demoTask, isMeter, loadModelFromFolder, modelShape } from './engine.js';
import { meterPassNote, meterTokenSummary, meterTokensPerStep } from './meter-figures.js';
import { isMeterFolder, readMeterFolder } from './meter-folder.js';
import { demoSchedule } from './schedules.js';

/**
 * A METER checkpoint folder picked in the demo: a tiny model of the shared data (the authors' layout) with a
 * tokenizer.json beside it, as the page reads it and answers with it.
 */
function meterFolder(name: 'tiny-meter-vqa' | 'tiny-meter-nlvr2', withTokenizer = true): FolderFile[] {
  const dir = meterModelDir(name);
  const files: FolderFile[] = readdirSync(dir)
    .filter((f) => f !== 'cases.json')
    .map((f) => ({ path: `${name}/${f}`, file: new Blob([readFileSync(join(dir, f))]) }));
  if (withTokenizer)
    files.push({
      path: `${name}/tokenizer.json`,
      file: new Blob([readFileSync(bundledTokenizerPath('tiny-roberta')!)]),
    });
  return files;
}

const backend = createCpuBackend();
const image = decodeImageFile(bundledImages()[0]!.path);

describe('a METER checkpoint folder in the demo', () => {
  it('is told apart from a ViLT folder by its config.json', async () => {
    expect(await isMeterFolder(meterFolder('tiny-meter-vqa'))).toBe(true);
    const vilt = readdirSync(defaultModelDir()).map((f) => ({
      path: `tiny/${f}`,
      file: new Blob([readFileSync(join(defaultModelDir(), f))]),
    }));
    expect(await isMeterFolder(vilt)).toBe(false);
    expect(isMeter(await loadModelFromFolder(vilt))).toBe(false);
  });

  it("loads and answers as loadMeter's model does, with its own schedule in steps", async () => {
    const loaded = await loadModelFromFolder(meterFolder('tiny-meter-vqa'));
    expect(isMeter(loaded)).toBe(true);
    if (!isMeter(loaded)) return;
    expect(demoTask(loaded)).toBe('vqa');
    expect(modelShape(loaded)).toEqual({
      family: 'meter',
      depth: 2,
      imageSize: 64,
      patchSize: 16,
      textTokens: 16,
    });
    expect(loaded.model.id).toMatch(/^folder:tiny-meter-vqa\/pytorch_model\.bin:\d+:/);
    const { config } = demoSchedule('model', 2, loaded.reduction, 'meter');
    expect(config?.reduceLayers).toEqual([0, 1]);
    const question = 'what color is the shape?';
    const fromFolder = await createMeterPipeline(loaded, { task: 'vqa', backend, reduction: config });
    const got = await fromFolder.answer(image, question, { details: true });
    const reference = await createMeterPipeline(loadMeter(meterModelDir('tiny-meter-vqa')), {
      task: 'vqa',
      backend,
    });
    expect(Array.from(got.logits)).toEqual(Array.from((await reference.answer(image, question)).logits));
    const steps = got.details!.passes[0]!;
    expect(meterTokenSummary(steps)).toBe('16 text + 17 image → 10 + 7');
    expect(meterTokensPerStep(steps)).toBe('S0 13+11 · S1 10+7');
    expect(meterPassNote(steps)).toMatch(/^METER: the text layers of steps 0, 1 prune and merge/);
  });

  it('an NLVR2 folder is the NLVR2 task; a folder without tokenizer.json or weights says so', async () => {
    expect(demoTask(await loadModelFromFolder(meterFolder('tiny-meter-nlvr2')))).toBe('nlvr2');
    await expect(loadModelFromFolder(meterFolder('tiny-meter-vqa', false))).rejects.toMatchObject({
      code: 'TOKENIZER',
    });
    const noWeights = meterFolder('tiny-meter-vqa').filter((f) => !f.path.endsWith('.bin'));
    await expect(readMeterFolder(noWeights)).rejects.toThrow(PumerError);
    await expect(readMeterFolder(noWeights)).rejects.toThrow(/no weights/);
  });
});
