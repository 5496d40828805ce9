import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCpuBackend } from '@pumer/backend-cpu';
import type { ReductionConfig } from '@pumer/core';
import { hasSharedData, sharedPath } from '@pumer/testkit/node';
import { describe, expect, it } from 'vitest';
import { createPipeline } from '../create-pipeline.js';
import type { VqaDetails } from '../details.js';
import { type LoadedVilt, viltFromFiles } from '../model.js';
import { createNlvr2Pipeline } from '../nlvr2-pipeline.js';
import { createRetrievalPipeline } from '../retrieval-pipeline.js';
import { createVePipeline } from '../ve-pipeline.js';
import '../node.js';
import { type LoadViltOptions, loadVilt, readViltFiles } from './load.js';

/**
 * The VE, NLVR2 and retrieval heads through their pipelines on the CPU reference, against what transformers
 * computes (../shared/real: nlvr2_*, retrieval, from both weight files) and what the PuMer authors' code
 * computes (../shared/real/authors: every ve, nlvr2 and irtr case, reducers on and off, with the per-layer
 * token counts of every pass).
 */

interface Tensor {
  readonly shape: number[];
  readonly data: number[];
}
interface RealCase {
  readonly name: string;
  readonly model: string;
  readonly images: string[];
  readonly text: string;
  readonly input_ids: Tensor;
  readonly logits: Tensor;
}
interface Run {
  readonly logits: Tensor;
  readonly tokens_per_layer: [number, number][] | Record<'image1_pass' | 'image2_pass', [number, number][]>;
}
interface AuthorsCase {
  readonly head: 've' | 'nlvr2' | 'irtr' | 'vqa';
  readonly name: string;
  readonly model_dir: string;
  readonly images: string[];
  readonly text: string;
  readonly truncated: boolean;
  readonly inputs: { readonly input_ids: Tensor; readonly attention_mask: Tensor };
  readonly on: Run;
  readonly off: Run;
}

const real = (...p: string[]) => sharedPath('real', ...p);
const authors = (...p: string[]) => sharedPath('real', 'authors', ...p);
const realPresent = hasSharedData('real', 'cases.json') && hasSharedData('real', 'nlvr2', 'config.json');
const authorsPresent = hasSharedData('real', 'authors', 'cases.json');
const realCases: RealCase[] = realPresent ? JSON.parse(readFileSync(real('cases.json'), 'utf8')).cases : [];
const authorsCases: AuthorsCase[] = authorsPresent
  ? JSON.parse(readFileSync(authors('cases.json'), 'utf8')).cases
  : [];
const withTokenizer: LoadViltOptions = { tokenizer: authors('tokenizer.json') };
const backend = createCpuBackend();

function maxAbsDiff(a: ArrayLike<number>, b: readonly number[]): number {
  expect(a.length).toBe(b.length);
  return Math.max(...b.map((v, i) => Math.abs(a[i] - v)));
}

/** A checkpoint folder loaded from one of its weight files. */
function loadWith(dir: string, weightsFile: string): LoadedVilt {
  const files = readViltFiles(dir);
  return viltFromFiles({
    ...files,
    weights: new Uint8Array(readFileSync(join(dir, weightsFile))),
    weightsName: weightsFile,
    id: `${dir}/${weightsFile}`,
  });
}

const counts = (d: VqaDetails | undefined) => d?.layers.map((l) => [l.textOut, l.imageOut]);

describe.skipIf(!realPresent)('Hugging Face NLVR2 and retrieval heads (../shared/real)', () => {
  const nlvr2Cases = realCases.filter((c) => c.name.startsWith('nlvr2_'));
  const retrieval = realCases.find((c) => c.name === 'retrieval');

  for (const file of ['pytorch_model.bin', 'model.safetensors']) {
    it(`NLVR2 from ${file}: every nlvr2_* case within 1e-4 of transformers' logits`, async () => {
      expect(nlvr2Cases.length).toBe(3);
      const pipeline = await createNlvr2Pipeline({ model: loadWith(real('nlvr2'), file), backend });
      let worst = 0;
      for (const c of nlvr2Cases) {
        const r = await pipeline.predict([real(c.images[0]), real(c.images[1])], c.text);
        worst = Math.max(worst, maxAbsDiff(r.logits, c.logits.data));
        const [no, yes] = c.logits.data;
        expect(r.value, c.name).toBe(yes > no);
        expect(r.classes[0].probability + r.classes[1].probability).toBeCloseTo(1, 6);
      }
      console.info(`HF nlvr2 (${file}): worst logit error ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(1e-4);
    }, 60_000);

    it(`retrieval from ${file}: the caption against each image within 1e-4, the best image found`, async () => {
      const c = retrieval!;
      const pipeline = await createRetrievalPipeline({ model: loadWith(real('retrieval'), file), backend });
      const ranked = await pipeline.rank({ texts: [c.text], images: c.images.map((i) => real(i)) });
      const worst = maxAbsDiff(ranked.scores, c.logits.data);
      console.info(`HF retrieval (${file}): worst logit error ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(1e-4);
      const best = c.logits.data.indexOf(Math.max(...c.logits.data));
      expect(ranked.textToImage[0][0].index).toBe(best);
      const single = await pipeline.score(c.text, real(c.images[0]));
      expect(Math.abs(single.score - c.logits.data[0])).toBeLessThan(1e-4);
    }, 60_000);
  }

  it("createPipeline('auto') opens the checkpoint's task; a task name refuses another task's checkpoint", async () => {
    expect((await createPipeline('auto', { model: real('nlvr2'), backend })).task).toBe('nlvr2');
    expect((await createPipeline('auto', { model: real('retrieval'), backend })).task).toBe('retrieval');
    expect((await createPipeline('auto', { model: real('vqa'), backend })).task).toBe('vqa');
    await expect(createPipeline('vqa', { model: real('nlvr2'), backend })).rejects.toThrow(
      /answers NLVR2, not VQA: use createNlvr2Pipeline/,
    );
  });
});

describe.skipIf(!authorsPresent)(
  "the authors' VE, NLVR2 and retrieval heads (../shared/real/authors)",
  () => {
    /** The folder with reducers off: the `-ft` twin (same weights) where there is one. */
    const offDir = (dir: string) => (dir === 'irtr' ? null : `${dir}-ft`);

    async function runCase(c: AuthorsCase, dir: string, reduction: ReductionConfig | null | 'model') {
      const model = loadVilt(authors(dir), withTokenizer);
      const text = model.tokenizer.encode(c.text);
      expect(text.inputIds, c.name).toEqual(c.inputs.input_ids.data);
      expect(text.attentionMask, c.name).toEqual(c.inputs.attention_mask.data);
      expect(text.truncated, c.name).toBe(c.truncated);
      const options = { model, backend, reduction };
      const images = c.images.map((i) => authors('images', i));
      if (c.head === 've') {
        const r = await (await createVePipeline(options)).predict(images[0], c.text, { details: true });
        return { logits: r.logits, counts: counts(r.details) };
      }
      if (c.head === 'nlvr2') {
        const r = await (await createNlvr2Pipeline(options)).predict([images[0], images[1]], c.text, {
          details: true,
        });
        return {
          logits: r.logits,
          counts: { image1_pass: counts(r.details?.images[0]), image2_pass: counts(r.details?.images[1]) },
        };
      }
      const r = await (await createRetrievalPipeline(options)).score(c.text, images[0], { details: true });
      return { logits: [r.score], counts: counts(r.details) };
    }

    for (const head of ['ve', 'nlvr2', 'irtr'] as const) {
      it(`every ${head} case within 1e-4, token counts exact (each pass), reducers on and off`, async () => {
        const cases = authorsCases.filter((c) => c.head === head);
        expect(cases.length).toBeGreaterThan(0);
        let worst = 0;
        for (const c of cases) {
          const runs: [string, ReductionConfig | null | 'model', Run][] = [
            [c.model_dir, 'model', c.on],
            [c.model_dir, null, c.off],
          ];
          const off = offDir(c.model_dir);
          if (off) runs.push([off, 'model', c.off]);
          for (const [dir, reduction, ref] of runs) {
            const r = await runCase(c, dir, reduction);
            expect(r.counts, `${c.name} ${dir} ${String(reduction)}`).toEqual(ref.tokens_per_layer);
            worst = Math.max(worst, maxAbsDiff(r.logits, ref.logits.data));
          }
        }
        console.info(`authors ${head}: ${cases.length} cases, worst logit error ${worst.toExponential(2)}`);
        expect(worst).toBeLessThan(1e-4);
      }, 120_000);
    }
  },
);
