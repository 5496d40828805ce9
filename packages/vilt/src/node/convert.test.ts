import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCpuBackend } from '@pumer/backend-cpu';
import { floatTensor, intTensor, namedSchedule, PumerError, type ReductionConfig } from '@pumer/core';
import { hasSharedData, sharedPath } from '@pumer/testkit/node';
import { afterAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../checkpoint/read.js';
import type { LoadedVilt } from '../model.js';
import { parsePreprocessorConfig } from '../preprocessor.js';
import { prepareImage } from '../preprocessor.js';
import { convertCheckpoint } from './convert.js';
import { decodeImageFile } from './decode.js';
import { type LoadViltOptions, loadVilt } from './load.js';

/**
 * `convertCheckpoint` against the real reference checkpoints (../shared/real): the Hugging Face layout it
 * writes loads back to the same logits as its input, reducers on and off, on every single-image case of the
 * references' cases.json.
 */

interface Case {
  readonly name: string;
  readonly images: string[];
  readonly text: string;
}

const present = hasSharedData('real', 'authors', 'cases.json') && hasSharedData('real', 'cases.json');
const real = (...p: string[]) => sharedPath('real', ...p);
const scratch = mkdtempSync(join(tmpdir(), 'pumer-convert-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function casesOf(file: string, keep: (c: Record<string, unknown>) => boolean): Case[] {
  if (!present) return [];
  const all = JSON.parse(readFileSync(file, 'utf8')).cases as Record<string, unknown>[];
  return all.filter(keep) as unknown as Case[];
}

const backend = createCpuBackend();

async function logits(loaded: LoadedVilt, image: string, text: string, reduction: ReductionConfig | null) {
  const t = loaded.tokenizer.encode(text);
  const pixels = prepareImage(decodeImageFile(image), loaded.preprocessor);
  const out = await backend.runVilt(
    loaded.model,
    {
      inputIds: intTensor(t.inputIds, [1, t.inputIds.length]),
      attentionMask: intTensor(t.attentionMask, [1, t.attentionMask.length]),
      pixelValues: floatTensor(pixels.data, [1, ...pixels.shape]),
    },
    reduction,
  );
  return Array.from(out.logits.data);
}

function maxDiff(a: number[], b: number[]): number {
  expect(a).toHaveLength(b.length);
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
}

const CHECKPOINTS: {
  name: string;
  dir: () => string;
  options: () => LoadViltOptions;
  cases: () => { image: string; text: string; name: string }[];
}[] = [
  {
    name: 'Hugging Face vqa (model.safetensors)',
    dir: () => real('vqa'),
    options: () => ({}),
    cases: () =>
      casesOf(real('cases.json'), (c) => c['model'] === 'vqa' && typeof c['text'] === 'string').map((c) => ({
        name: c.name,
        image: real(c.images[0]!),
        text: c.text,
      })),
  },
  {
    name: "the authors' vqa (pytorch_model.bin, labels found beside, tokenizer given)",
    dir: () => real('authors', 'vqa'),
    options: () => ({ tokenizer: real('authors', 'tokenizer.json') }),
    cases: () =>
      casesOf(real('authors', 'cases.json'), (c) => c['head'] === 'vqa').map((c) => ({
        name: c.name,
        image: real('authors', 'images', c.images[0]!),
        text: c.text,
      })),
  },
];

describe.skipIf(!present)('convertCheckpoint', () => {
  for (const ck of CHECKPOINTS) {
    it(`${ck.name}: the converted checkpoint gives the input's logits within 1e-5, reducers on and off`, async () => {
      const out = join(scratch, ck.name.split(' ')[0]!.replace(/\W/g, ''));
      const report = convertCheckpoint(ck.dir(), out, ck.options());
      expect(readdirSync(out).sort()).toEqual([
        'config.json',
        'model.safetensors',
        'preprocessor_config.json',
        'tokenizer.json',
      ]);
      const input = loadVilt(ck.dir(), ck.options());
      const output = loadVilt(out);
      expect(report.from).toBe(input.config.layout);
      expect(output.config.layout).toBe('hf');
      expect(output.model.labels).toEqual(input.model.labels);
      expect(output.reduction).toEqual(input.reduction);
      expect(output.preprocessor).toEqual(input.preprocessor);
      expect(output.tokenizer.window).toBe(input.tokenizer.window);
      // On: the checkpoint's own schedule, or the paper's scaled to its depth when it has none.
      const on = input.reduction ?? namedSchedule('paper', input.config.geometry.numLayers);
      const cases = ck.cases();
      expect(cases.length).toBeGreaterThan(0);
      let worst = 0;
      for (const c of cases) {
        expect(output.tokenizer.encode(c.text)).toEqual(input.tokenizer.encode(c.text));
        for (const reduction of [on, null]) {
          const want = await logits(input, c.image, c.text, reduction);
          worst = Math.max(worst, maxDiff(await logits(output, c.image, c.text, reduction), want));
        }
      }
      // Measured: 0 for the Hugging Face input; ~1e-6 for the authors' (their text LayerNorm eps 1e-12 becomes 1e-6).
      expect(worst).toBeLessThan(1e-5);
    }, 60_000);
  }

  it("writes Hugging Face names: the authors' fused qkv split into query, key and value", () => {
    const out = join(scratch, 'names');
    convertCheckpoint(real('authors', 'vqa'), out, { tokenizer: real('authors', 'tokenizer.json') });
    const { tensors } = readCheckpoint(new Uint8Array(readFileSync(join(out, 'model.safetensors'))));
    const names = [...tensors.keys()];
    expect(names.some((n) => n.startsWith('vilt.transformer.') || n.includes('qkv'))).toBe(false);
    for (const part of ['query', 'key', 'value'])
      expect(tensors.get(`vilt.encoder.layer.0.attention.attention.${part}.weight`)?.shape).toEqual([32, 32]);
    // The authors' 40-row text table, cut to their VQA window of 32 (what max_position_embeddings says).
    expect(tensors.get('vilt.embeddings.text_embeddings.position_embeddings.weight')?.shape).toEqual([
      32, 32,
    ]);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      num_hidden_layers: 4,
      max_position_embeddings: 32,
      pumer: { reduce_layers: [1, 2, 3], merge_style: 'tome', sim_method: 'mean_head' },
    });
    expect(config.id2label['0']).toBe('yes');
    const pre = JSON.parse(readFileSync(join(out, 'preprocessor_config.json'), 'utf8'));
    expect(pre).toMatchObject({
      resample: 2,
      do_pad: false,
      pumer: { fixed_size: { height: 384, width: 384 } },
    });
    expect(parsePreprocessorConfig(pre).fixedSize).toEqual({ height: 384, width: 384 });
  });

  it('refuses a non-empty output folder unless forced, and the input folder itself', () => {
    const out = join(scratch, 'busy');
    mkdirSync(out);
    writeFileSync(join(out, 'notes.txt'), 'keep me');
    expect(() => convertCheckpoint(real('vqa'), out)).toThrow(/not empty/);
    expect(() => convertCheckpoint(real('vqa'), real('vqa'))).toThrow(PumerError);
    convertCheckpoint(real('vqa'), out, { force: true });
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('keep me');
    expect(loadVilt(out).model.labels).toHaveLength(12);
  });

  it.each([
    ['authors', 've', 've'],
    ['authors', 'nlvr2', 'nlvr2'],
    ['authors', 'irtr', 'retrieval'],
    ['hf', 'nlvr2', 'nlvr2'],
    ['hf', 'retrieval', 'retrieval'],
  ])(
    '%s %s: written in the Hugging Face layout, read back as the same %s head and logits',
    async (layout, dir, task) => {
      const from = layout === 'authors' ? real('authors', dir) : real(dir);
      const options = layout === 'authors' ? { tokenizer: real('authors', 'tokenizer.json') } : {};
      const out = join(scratch, `${layout}-${dir}`);
      convertCheckpoint(from, out, options);
      const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
      const input = loadVilt(from, options);
      const output = loadVilt(out);
      expect(output.model.task).toBe(task);
      // VE has no Hugging Face class: a VQA-shaped head that names its task.
      expect(config['pumer_task']).toBe(task === 've' ? 've' : undefined);
      expect(output.model.labels).toEqual(input.model.labels);
      expect(output.model.geometry.numImages).toBe(input.model.geometry.numImages);
      expect(output.model.weights.modalityEmbeddings).toEqual(input.model.weights.modalityEmbeddings);
      expect(output.model.weights.head).toEqual(input.model.weights.head);
      // One run of each through the backend: the same logits.
      const n = input.model.geometry.numImages;
      const size = input.model.geometry.imageSize;
      const t = input.tokenizer.encode('a red circle');
      const pixels = Float32Array.from({ length: n * 3 * size * size }, (_, i) => Math.sin(i * 0.01));
      const inputs = {
        inputIds: intTensor(t.inputIds, [1, t.inputIds.length]),
        attentionMask: intTensor(t.attentionMask, [1, t.attentionMask.length]),
        pixelValues: floatTensor(pixels, n === 1 ? [1, 3, size, size] : [1, n, 3, size, size]),
      };
      const want = await backend.runVilt(input.model, inputs, input.reduction);
      const got = await backend.runVilt(output.model, inputs, output.reduction);
      expect(maxDiff(Array.from(got.logits.data), Array.from(want.logits.data))).toBeLessThan(1e-5);
    },
    60_000,
  );

  it('a missing tokenizer fails before anything is written', () => {
    const out = join(scratch, 'never');
    const code = (run: () => unknown) => {
      try {
        run();
      } catch (err) {
        return (err as PumerError).code;
      }
      return 'none';
    };
    expect(code(() => convertCheckpoint(real('authors', 'vqa'), out))).toBe('TOKENIZER');
    expect(() => readdirSync(out)).toThrow();
  });
});
