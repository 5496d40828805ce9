import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PumerError } from '@pumer/core';
import { afterAll, describe, expect, it } from 'vitest';
import '../node.js';
import '@pumer/backend-cpu';
import { createVqaPipeline } from '../pipeline.js';
import { bundledImages, defaultModelDir } from './assets.js';
import { evaluate, loadEvalSet } from './evaluate.js';
import { loadVilt } from './load.js';

const dir = mkdtempSync(join(tmpdir(), 'pumer-vilt-eval-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const loaded = loadVilt(defaultModelDir());
const images = bundledImages();

function writeJsonl(name: string, rows: unknown[]): string {
  const path = join(dir, name);
  writeFileSync(path, rows.map((r) => JSON.stringify(r)).join('\n'));
  return path;
}

describe('evaluate', () => {
  it('scores the top answer against the reference answer, in batches, with progress', async () => {
    const rows = images.map((b) => ({ image: b.path, question: b.question, answer: b.answer }));
    // A wrong stored tokenisation is counted, not fatal.
    rows[0] = { ...rows[0], input_ids: [2, 3], attention_mask: [1, 1] } as (typeof rows)[0];
    const progress: number[] = [];
    const r = await evaluate({
      model: loaded,
      data: writeJsonl('bundled.jsonl', rows),
      schedule: 'model',
      batchSize: 4,
      returnLogits: true,
      onProgress: (done, total) => progress.push(done / total),
    });
    expect(r.n).toBe(images.length);
    expect(progress).toEqual([4 / 6, 1]);
    expect(r.tokenizerMismatches).toBe(1);
    expect(r.logits?.shape).toEqual([6, 14]);
    expect(r.backend).toEqual({ name: 'cpu', provider: 'typescript' });
    // Same predictions as the pipeline, and accuracy is their agreement with the answers.
    const vqa = await createVqaPipeline({ model: loaded });
    const answers = await vqa.answerBatch(images.map((b) => ({ image: b.path, question: b.question })));
    expect(r.predictions).toEqual(answers.map((a) => a.answers[0].label));
    expect(r.accuracy).toBe(r.predictions.filter((p, i) => p === images[i].answer).length / images.length);
    const limited = await evaluate({
      model: loaded,
      data: loadEvalSet(join(dir, 'bundled.jsonl')),
      schedule: 'none',
      limit: 2,
    });
    expect(limited.n).toBe(2);
    expect(limited.schedule).toBeNull();
  });

  it('reports a bad eval file or option as a PumerError naming the line or the option', async () => {
    expect(() => loadEvalSet(join(dir, 'missing.jsonl'))).toThrow(PumerError);
    const badLine = join(dir, 'bad.jsonl');
    writeFileSync(badLine, `${JSON.stringify({ image: 'a.png', question: 'q', answer: 'yes' })}\n{oops\n`);
    expect(() => loadEvalSet(badLine)).toThrow(/bad.jsonl:2: not valid JSON/);
    expect(() => loadEvalSet(writeJsonl('noanswer.jsonl', [{ image: 'a.png', question: 'q' }]))).toThrow(
      /field "answer"/,
    );
    const ok = writeJsonl('one.jsonl', [{ image: images[0].path, question: 'q', answer: 'yes' }]);
    await expect(evaluate({ model: loaded, data: ok, batchSize: 0 })).rejects.toThrow(/batchSize/);
    await expect(evaluate({ model: loaded, data: ok, limit: 0 })).rejects.toThrow(/limit/);
    const missingImage = writeJsonl('noimage.jsonl', [{ image: 'nope.png', question: 'q', answer: 'yes' }]);
    await expect(evaluate({ model: loaded, data: missingImage })).rejects.toMatchObject({ code: 'IMAGE' });
  });
});
