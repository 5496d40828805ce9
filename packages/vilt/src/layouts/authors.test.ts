import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCpuBackend } from '@pumer/backend-cpu';
import { floatTensor, intTensor, PumerError, type ReductionConfig } from '@pumer/core';
import { hasSharedData, sharedPath } from '@pumer/testkit/node';
import { afterAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../checkpoint/read.js';
import { torchSave } from '../testing/torch-save.js';
import { isFloatTensor } from '../checkpoint/tensors.js';
import type { LoadedVilt } from '../model.js';
import { decodeImageFile } from '../node/decode.js';
import { type LoadViltOptions, loadVilt } from '../node/load.js';
import { prepareImage } from '../preprocessor.js';

/**
 * The PuMer authors' checkpoint layout, against outputs of their own PyTorch code (../shared/real/authors):
 * tiny random-weight models saved as their classes save them, run through the CPU reference backend.
 */

interface Tensor {
  readonly shape: number[];
  readonly data: number[];
}
interface Run {
  readonly logits: Tensor;
  readonly tokens_per_layer: [number, number][];
}
interface AuthorsCase {
  readonly head: string;
  readonly name: string;
  readonly model_dir: string;
  readonly images: string[];
  readonly text: string;
  readonly truncated: boolean;
  readonly inputs: { readonly input_ids: Tensor; readonly attention_mask: Tensor };
  readonly on: Run;
  readonly off: Run;
}

const present = hasSharedData('real', 'authors', 'cases.json');
const authors = (...p: string[]) => sharedPath('real', 'authors', ...p);
const withTokenizer: LoadViltOptions = { tokenizer: authors('tokenizer.json') };
const cases: AuthorsCase[] = present ? JSON.parse(readFileSync(authors('cases.json'), 'utf8')).cases : [];
const vqaCases = cases.filter((c) => c.head === 'vqa');
const scratch = mkdtempSync(join(tmpdir(), 'pumer-authors-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function loadError(run: () => unknown, code: string): PumerError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(PumerError);
    expect((err as PumerError).code).toBe(code);
    return err as PumerError;
  }
  throw new Error('expected a PumerError');
}

/** A copy of a checkpoint folder away from the shared data (so no answer list is found above it). */
function isolated(dir: string): string {
  const out = mkdtempSync(join(scratch, `${dir}-`));
  for (const f of ['config.json', 'pytorch_model.bin']) copyFileSync(authors(dir, f), join(out, f));
  return out;
}

async function run(loaded: LoadedVilt, c: AuthorsCase, reduction: ReductionConfig | null) {
  const text = loaded.tokenizer.encode(c.text);
  const pixels = prepareImage(decodeImageFile(authors('images', c.images[0])), loaded.preprocessor);
  const out = await createCpuBackend().runVilt(
    loaded.model,
    {
      inputIds: intTensor(text.inputIds, [1, text.inputIds.length]),
      attentionMask: intTensor(text.attentionMask, [1, text.attentionMask.length]),
      pixelValues: floatTensor(pixels.data, [1, ...pixels.shape]),
    },
    reduction,
  );
  return { text, logits: out.logits, counts: out.layers.map((l) => [l.textOut, l.imageOut]) };
}

function maxAbsDiff(a: Float32Array, b: readonly number[]): number {
  expect(a.length).toBe(b.length);
  return Math.max(...b.map((v, i) => Math.abs(a[i] - v)));
}

describe.skipIf(!present)("the PuMer authors' checkpoint layout (../shared/real/authors)", () => {
  const vqa = present ? loadVilt(authors('vqa'), withTokenizer) : (null as unknown as LoadedVilt);
  const ft = present ? loadVilt(authors('vqa-ft'), withTokenizer) : (null as unknown as LoadedVilt);

  it('reads their config.json into the geometry, text window, labels and schedule', () => {
    expect(vqa.config.layout).toBe('authors');
    expect(vqa.config.architecture).toBe('ViltForQuestionAnswering');
    expect(vqa.config.geometry).toEqual({
      hiddenSize: 32,
      numLayers: 4,
      numHeads: 2,
      intermediateSize: 128, // from mlp.fc1.weight: mlp_ratio is not what sizes their MLP
      layerNormEps: 1e-6,
      vocabSize: 31,
      maxTextLength: 32, // the VQA text window; their position table has max_text_len = 40 rows
      imageSize: 384,
      patchSize: 32,
      numChannels: 3,
      numLabels: 10,
      numImages: 1,
    });
    expect(vqa.config.textPositionRows).toBe(40);
    expect(vqa.tokenizer.window).toBe(32);
    expect(vqa.model.weights.textPositionEmbeddings.shape).toEqual([32, 32]);
    expect(vqa.model.labels).toEqual(
      JSON.parse(readFileSync(authors('datasets/vqa2/vqa2_label2ans.json'), 'utf8')),
    );
    expect(vqa.reduction).toEqual({
      reduceLayers: [1, 2, 3],
      pruneRatio: 0.1,
      mergeRatio: 0.3,
      textMergeRatio: 0.2,
      saliency: 'mean_head', // "mh"
      mergeStyle: 'tome',
      tomeCount: 0,
    });
    expect(ft.reduction).toBeNull();
    expect(ft.model.weights).toEqual(vqa.model.weights);
    expect(vqa.preprocessor).toMatchObject({ fixedSize: { height: 384, width: 384 }, resample: 2 });
  });

  it('maps their names, splits the fused qkv into query, key, value and sets their epsilons', () => {
    const { tensors } = readCheckpoint(readFileSync(authors('vqa', 'pytorch_model.bin')));
    const qkv = tensors.get('vilt.transformer.blocks.2.attn.qkv.weight');
    const qkvBias = tensors.get('vilt.transformer.blocks.2.attn.qkv.bias');
    if (!qkv || !qkvBias || !isFloatTensor(qkv) || !isFloatTensor(qkvBias)) throw new Error('no qkv');
    const layer = vqa.model.weights.layers[2];
    const d = 32;
    [layer.query, layer.key, layer.value].forEach((p, k) => {
      expect(p.weight.shape).toEqual([d, d]);
      expect(p.weight.data).toEqual(qkv.data.subarray(k * d * d, (k + 1) * d * d));
      expect(p.bias?.data).toEqual(qkvBias.data.subarray(k * d, (k + 1) * d));
    });
    const w = vqa.model.weights;
    if (w.head.kind !== 'classifier') throw new Error(`expected a classifier head, got ${w.head.kind}`);
    expect([w.textNorm.eps, layer.norm1.eps, layer.norm2.eps, w.finalNorm.eps, w.head.norm.eps]).toEqual([
      1e-12, 1e-6, 1e-6, 1e-6, 1e-5,
    ]);
    const fc2 = tensors.get('vqa_classifier.3.weight');
    expect(w.head.fc2.weight.data).toEqual(fc2?.data);
  });

  it('prepares images as their transform does (384x384 bilinear): the pixel dumps exactly', () => {
    for (const [i, c] of vqaCases.slice(0, 2).entries()) {
      const bytes = readFileSync(authors('pixels', `000${i + 1}.f32`));
      const ref = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      const t = prepareImage(decodeImageFile(authors('images', c.images[0])), vqa.preprocessor);
      expect(t.shape).toEqual([3, 384, 384]);
      let differ = 0;
      for (let k = 0; k < ref.length; k++) if (t.data[k] !== ref[k]) differ++;
      expect(differ, c.images[0]).toBe(0);
    }
  });

  it('gives their logits and per-layer token counts for every VQA case, reducers on and off', async () => {
    expect(vqaCases.length).toBe(6);
    for (const c of vqaCases) {
      const runs: [LoadedVilt, ReductionConfig | null, Run][] = [
        [vqa, vqa.reduction, c.on],
        [vqa, null, c.off],
        [ft, ft.reduction, c.off],
      ];
      for (const [loaded, reduction, ref] of runs) {
        const r = await run(loaded, c, reduction);
        expect(r.text.inputIds, c.name).toEqual(c.inputs.input_ids.data);
        expect(r.text.attentionMask, c.name).toEqual(c.inputs.attention_mask.data);
        expect(r.text.truncated, c.name).toBe(c.truncated);
        expect(r.counts, c.name).toEqual(ref.tokens_per_layer);
        expect(maxAbsDiff(r.logits.data, ref.logits.data), c.name).toBeLessThan(1e-5);
      }
    }
  });

  it.each([
    ['vqa', 'vqa', 1, 10, 2],
    ['ve', 've', 1, 3, 2],
    ['nlvr2', 'nlvr2', 2, 2, 3],
    ['irtr', 'retrieval', 1, 1, 2],
  ])(
    'maps the head of %s: task %s, %i image(s), %i output(s), %i modality rows',
    (dir, task, images, outputs, rows) => {
      const loaded = loadVilt(authors(dir), withTokenizer);
      expect(loaded.model.task).toBe(task);
      expect(loaded.model.geometry.numImages).toBe(images);
      expect(loaded.model.labels).toHaveLength(outputs);
      expect(loaded.model.weights.modalityEmbeddings.shape[0]).toBe(rows);
      expect(loaded.model.weights.head.kind).toBe(task === 'retrieval' ? 'rank' : 'classifier');
      // Their task configs pad VQA questions to 32 tokens, every other task's text to 40.
      expect(loaded.tokenizer.window).toBe(task === 'vqa' ? 32 : 40);
    },
  );

  it('labels VE and NLVR2 outputs in their order; retrieval has one score', () => {
    expect(loadVilt(authors('ve'), withTokenizer).model.labels).toEqual([
      'contradiction',
      'neutral',
      'entailment',
    ]);
    expect(loadVilt(authors('nlvr2'), withTokenizer).model.labels).toEqual(['False', 'True']);
    expect(loadVilt(authors('irtr'), withTokenizer).model.labels).toEqual(['score']);
  });

  it('takes the labels option as a list or a file, and checks its length', () => {
    const dir = isolated('vqa');
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];
    expect(loadVilt(dir, { ...withTokenizer, labels: names }).model.labels).toEqual(names);
    const file = join(scratch, 'answers.json');
    writeFileSync(file, JSON.stringify(names));
    expect(loadVilt(dir, { ...withTokenizer, labels: file }).model.labels).toEqual(names);
    expect(
      loadError(() => loadVilt(dir, { ...withTokenizer, labels: ['yes', 'no'] }), 'CHECKPOINT').message,
    ).toMatch(/2 labels, but the checkpoint's VQA head has 10 outputs/);
    writeFileSync(file, JSON.stringify({ yes: 0 }));
    expect(loadError(() => loadVilt(dir, { ...withTokenizer, labels: file }), 'CHECKPOINT').message).toMatch(
      /labels must be a JSON list of answers \(an object is the answer -> index form/,
    );
  });

  it('finds the answer list up to two folders above the checkpoint, not further', () => {
    const root = mkdtempSync(join(scratch, 'tree-'));
    const deep = join(root, 'a', 'b', 'c');
    mkdirSync(deep, { recursive: true });
    for (const f of ['config.json', 'pytorch_model.bin']) copyFileSync(authors('vqa', f), join(deep, f));
    mkdirSync(join(root, 'datasets', 'vqa2'), { recursive: true });
    writeFileSync(join(root, 'datasets', 'vqa2', 'vqa2_label2ans.json'), JSON.stringify([...'0123456789']));
    expect(() => loadVilt(deep, withTokenizer)).toThrow(/no answer labels/);
    mkdirSync(join(root, 'a', 'datasets', 'vqa2'), { recursive: true });
    copyFileSync(
      authors('datasets/vqa2/vqa2_label2ans.json'),
      join(root, 'a', 'datasets/vqa2/vqa2_label2ans.json'),
    );
    expect(loadVilt(deep, withTokenizer).model.labels[0]).toBe('yes');
  });

  it('says what is missing: the answer list of a VQA checkpoint, the tokenizer', () => {
    const dir = isolated('vqa');
    const labels = loadError(() => loadVilt(dir, withTokenizer), 'CHECKPOINT').message;
    expect(labels).toContain(dir);
    expect(labels).toMatch(
      /no answer labels: this ViltForQuestionAnswering checkpoint \(the PuMer authors' layout, 10 answers\)/,
    );
    expect(labels).toContain('datasets/vqa2/vqa2_label2ans.json');
    const tokenizer = loadError(() => loadVilt(authors('vqa')), 'TOKENIZER').message;
    expect(tokenizer).toMatch(
      /no tokenizer: config.json names "bert-base-uncased" but the checkpoint has no tokenizer.json/,
    );
    expect(tokenizer).toContain('--tokenizer');
    expect(
      loadError(() => loadVilt(authors('vqa'), { tokenizer: join(scratch, 'none.json') }), 'CHECKPOINT')
        .message,
    ).toMatch(/none.json: file not found \(given as the tokenizer option\)/);
  });

  /** An isolated copy of `dir` with config.json changed and, optionally, tensors added to the weights. */
  function edited(dir: string, config: Record<string, unknown>, extra?: Record<string, number[]>): string {
    const out = isolated(dir);
    const base = JSON.parse(readFileSync(authors(dir, 'config.json'), 'utf8'));
    writeFileSync(join(out, 'config.json'), JSON.stringify({ ...base, ...config }));
    if (extra) {
      const { tensors } = readCheckpoint(readFileSync(authors(dir, 'pytorch_model.bin')));
      const more = new Map(tensors);
      for (const [name, shape] of Object.entries(extra))
        more.set(name, { dtype: 'F32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
      writeFileSync(join(out, 'pytorch_model.bin'), torchSave(more));
    }
    return out;
  }
  const answers = { ...withTokenizer, labels: [...'0123456789'] };

  it('refuses schedule ratios that are not numbers, naming the field', () => {
    for (const field of ['prune_r', 'merge_r', 'merge_text'])
      for (const bad of ['', '0.3', [0.3]]) {
        expect(loadError(() => loadVilt(edited('vqa', { [field]: bad }), answers), 'CONFIG').message).toMatch(
          new RegExp(`PuMer schedule fields: .*${field} must be a number`),
        );
      }
  });

  it('refuses a num_layers below the blocks the weights hold, naming the unused tensors', () => {
    const message = loadError(
      () => loadVilt(edited('vqa-ft', { num_layers: 3 }), answers),
      'CHECKPOINT',
    ).message;
    expect(message).toMatch(
      /pytorch_model.bin: 12 tensor\(s\) the model does not use: the weights hold layers up to 3, but config.json "num_layers" is 3 \("vilt.transformer.blocks.3.norm1.weight"/,
    );
  });

  it('skips their training-only itm_score head, refuses another head in a VQA checkpoint', () => {
    const itm = edited('vqa-ft', {}, { 'itm_score.fc.weight': [2, 32], 'itm_score.fc.bias': [2] });
    expect(loadVilt(itm, answers).model.weights.layers).toHaveLength(4);
    const rank = edited('vqa-ft', {}, { 'rank_output.weight': [1, 32], 'rank_output.bias': [1] });
    expect(loadError(() => loadVilt(rank, answers), 'CHECKPOINT').message).toMatch(
      /2 tensor\(s\) the model does not use \("rank_output.weight", "rank_output.bias"\)/,
    );
  });
});
