import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCpuBackend } from '@pumer/backend-cpu';
import { type Backend, type LayerTrace, type ReductionConfig, floatTensor, intTensor } from '@pumer/core';
import { hasSharedData, sharedPath } from '@pumer/testkit/node';
import {
  createVqaPipeline,
  decodeImageFile,
  type LoadedVilt,
  loadVilt,
  prepareImage,
} from '@pumer/vilt/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeBackend } from './index.js';

/**
 * Real checkpoints on onnxruntime-node against the reference implementations (../shared/real): the Hugging
 * Face VQA checkpoint from each weights file alone and from both, every vqa_* case (PNG, JPEG, the padded
 * batch of three), and the paper authors' VQA checkpoints with reducers on and off, with the reduce decisions
 * compared against the CPU reference.
 */

interface Tensor {
  readonly shape: number[];
  readonly data: number[];
}
interface HfCase {
  readonly name: string;
  readonly images: string[];
  readonly text: string | string[];
  readonly logits: Tensor;
}
interface AuthorsCase {
  readonly head: string;
  readonly name: string;
  readonly images: string[];
  readonly text: string;
  readonly on: { readonly logits: Tensor; readonly tokens_per_layer: [number, number][] };
  readonly off: { readonly logits: Tensor; readonly tokens_per_layer: [number, number][] };
}

const TOLERANCE = 1e-4;
const present = hasSharedData('real', 'cases.json') && hasSharedData('real', 'authors', 'cases.json');
const real = (...p: string[]) => sharedPath('real', ...p);
const hfCases: HfCase[] = present
  ? JSON.parse(readFileSync(real('cases.json'), 'utf8')).cases.filter((c: HfCase) =>
      c.name.startsWith('vqa_'),
    )
  : [];
const authorsCases: AuthorsCase[] = present
  ? JSON.parse(readFileSync(real('authors', 'cases.json'), 'utf8')).cases.filter(
      (c: AuthorsCase) => c.head === 'vqa',
    )
  : [];

const scratch = mkdtempSync(join(tmpdir(), 'pumer-real-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The HF vqa checkpoint with only the named weights files beside its other files. */
function hfVariant(weights: readonly string[]): string {
  const out = join(scratch, weights.join('+'));
  mkdirSync(out);
  for (const f of ['config.json', 'tokenizer.json', 'preprocessor_config.json', ...weights])
    copyFileSync(real('vqa', f), join(out, f));
  return out;
}

function maxAbsDiff(got: ArrayLike<number>, want: readonly number[]): number {
  expect(got.length).toBe(want.length);
  let m = 0;
  for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(got[i]! - want[i]!));
  return m;
}

describe.skipIf(!present)('real checkpoints on node', () => {
  let node: Backend;
  beforeAll(async () => {
    node = await createNodeBackend({ provider: 'cpu' });
  });
  afterAll(async () => node?.dispose());

  it.each([
    ['pytorch_model.bin alone', ['pytorch_model.bin']],
    ['model.safetensors alone', ['model.safetensors']],
    ['both weights files', ['model.safetensors', 'pytorch_model.bin']],
  ])('the Hugging Face vqa checkpoint from %s: every vqa_* case on cpu and node', async (_label, files) => {
    const loaded = loadVilt(hfVariant(files));
    expect(hfCases.length).toBe(10);
    for (const backend of [createCpuBackend(), node]) {
      const vqa = await createVqaPipeline({ model: loaded, backend, reduction: null });
      for (const c of hfCases) {
        const texts = Array.isArray(c.text) ? c.text : [c.text];
        const results = await vqa.answerBatch(
          c.images.map((image, i) => ({ image: decodeImageFile(real(image)), question: texts[i]! })),
        );
        const got = results.flatMap((r) => Array.from(r.logits));
        expect(maxAbsDiff(got, c.logits.data), `${backend.name} ${c.name}`).toBeLessThan(TOLERANCE);
      }
    }
  });

  async function runAuthors(
    backend: Backend,
    loaded: LoadedVilt,
    c: AuthorsCase,
    reduction: ReductionConfig | null,
  ) {
    const text = loaded.tokenizer.encode(c.text);
    const pixels = prepareImage(
      decodeImageFile(real('authors', 'images', c.images[0]!)),
      loaded.preprocessor,
    );
    return backend.runVilt(
      loaded.model,
      {
        inputIds: intTensor(text.inputIds, [1, text.inputIds.length]),
        attentionMask: intTensor(text.attentionMask, [1, text.attentionMask.length]),
        pixelValues: floatTensor(pixels.data, [1, ...pixels.shape]),
      },
      reduction,
    );
  }

  const decisions = (layers: readonly LayerTrace[]) =>
    layers.map((l) =>
      [l.keepIdx?.data, l.imageDst?.data, l.textDst?.data].map((t) => (t ? Array.from(t) : null)),
    );

  it("the authors' vqa and vqa-ft checkpoints: every VQA case, reducers on and off, as cpu decides", async () => {
    const options = { tokenizer: real('authors', 'tokenizer.json') };
    const vqa = loadVilt(real('authors', 'vqa'), options);
    const ft = loadVilt(real('authors', 'vqa-ft'), options);
    expect(vqa.reduction).not.toBeNull();
    expect(authorsCases.length).toBe(6);
    const cpu = createCpuBackend();
    for (const c of authorsCases) {
      for (const [loaded, reduction, ref] of [
        [vqa, vqa.reduction, c.on],
        [vqa, null, c.off],
        [ft, ft.reduction, c.off],
      ] as const) {
        const onNode = await runAuthors(node, loaded, c, reduction);
        const onCpu = await runAuthors(cpu, loaded, c, reduction);
        expect(maxAbsDiff(onNode.logits.data, ref.logits.data), c.name).toBeLessThan(TOLERANCE);
        expect(
          onNode.layers.map((l) => [l.textOut, l.imageOut]),
          c.name,
        ).toEqual(ref.tokens_per_layer);
        expect(decisions(onNode.layers), c.name).toEqual(decisions(onCpu.layers));
      }
    }
  });
});
