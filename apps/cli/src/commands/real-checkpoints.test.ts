import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hasSharedData, sharedPath } from '@pumer/testkit/node';
import { describe, expect, it } from 'vitest';
import { runCli } from '../testing.js';

/**
 * `pumer run` and `pumer eval` on the real reference checkpoints (../shared/real): the Hugging Face tiny VQA
 * model and the PuMer authors' (with --labels and --tokenizer), against the logits and token counts their
 * reference implementations computed. A few cases each; ../shared/tools/cases-check.mjs runs them all.
 */

interface Tensor {
  readonly data: number[];
}
interface HfCase {
  readonly name: string;
  readonly model: string;
  readonly images: string[];
  readonly text: string | string[];
  readonly logits: Tensor;
}
interface AuthorsRun {
  readonly logits: Tensor;
  readonly tokens_per_layer: [number, number][];
}
interface AuthorsCase {
  readonly name: string;
  readonly head: string;
  readonly model_dir: string;
  readonly images: string[];
  readonly text: string;
  readonly on: AuthorsRun;
  readonly off: AuthorsRun;
}

const present = hasSharedData('real', 'cases.json') && hasSharedData('real', 'authors', 'cases.json');
const real = (...p: string[]) => sharedPath('real', ...p);
const authors = (...p: string[]) => real('authors', ...p);
const read = <T>(file: string): T[] => (present ? JSON.parse(readFileSync(file, 'utf8')).cases : []);
const hfCases = read<HfCase>(real('cases.json'))
  .filter((c) => c.model === 'vqa' && typeof c.text === 'string')
  .slice(0, 2);
const authorsCases = read<AuthorsCase>(authors('cases.json'))
  .filter((c) => c.head === 'vqa')
  .slice(0, 2);
const authorsFiles = () => [
  '--tokenizer',
  authors('tokenizer.json'),
  '--labels',
  authors('datasets', 'vqa2', 'vqa2_label2ans.json'),
];

/** The reference's tolerance (cases-check.mjs): |d| <= 1e-4 + 1e-4 |want|. */
function expectLogits(got: number[], want: number[]): void {
  expect(got).toHaveLength(want.length);
  for (const [i, g] of got.entries())
    expect(Math.abs(g - want[i]!), `logit ${i}`).toBeLessThanOrEqual(1e-4 + 1e-4 * Math.abs(want[i]!));
}

async function runJson(argv: string[]) {
  const r = await runCli(['run', ...argv, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

async function expectOneLineError(argv: string[], pattern: RegExp): Promise<void> {
  const r = await runCli(argv);
  expect(r.code, argv.join(' ')).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^pumer: error: /);
  expect(lines[0]).toMatch(pattern);
}

describe.skipIf(!present)('pumer run on the real reference checkpoints', () => {
  for (const backend of ['cpu', 'node']) {
    it(`${backend}: Hugging Face vqa, unreduced: every logit in label order, as transformers computed`, async () => {
      const labels = JSON.parse(readFileSync(real('vqa', 'config.json'), 'utf8')).id2label;
      for (const c of hfCases) {
        const json = await runJson([
          '--model',
          real(c.model),
          '--image',
          real(c.images[0]!),
          '--question',
          c.text as string,
          '--schedule',
          'unreduced',
          '--backend',
          backend,
        ]);
        expect(json.backend.name).toBe(backend);
        expect(json.labels).toEqual(Object.values(labels));
        expectLogits(json.logits, c.logits.data);
      }
    }, 60_000);

    it(`${backend}: the authors' vqa with --labels and --tokenizer, reducers on and off: logits and tokens per layer`, async () => {
      for (const c of authorsCases) {
        const common = ['--image', authors('images', c.images[0]!), '--question', c.text, ...authorsFiles()];
        const on = await runJson(['--model', authors(c.model_dir), ...common, '--backend', backend]);
        const off = await runJson(['--model', authors(`${c.model_dir}-ft`), ...common, '--backend', backend]);
        expect(on.schedule.config.reduceLayers).toEqual([1, 2, 3]);
        expect(off.schedule.config).toBeNull();
        for (const [json, want] of [
          [on, c.on],
          [off, c.off],
        ] as const) {
          expectLogits(json.logits, want.logits.data);
          expect(json.labels[0]).toBe('yes');
          expect(
            json.layers.map((l: { textOut: number; imageOut: number }) => [l.textOut, l.imageOut]),
          ).toEqual(want.tokens_per_layer);
        }
      }
    }, 60_000);
  }

  it("the authors' checkpoint without --tokenizer, a missing or mis-sized --labels, a VE checkpoint without its hypothesis: one line, exit 2", async () => {
    const image = authors('images', '0001.png');
    const base = ['run', '--image', image, '--backend', 'cpu'];
    const tokenizer = ['--tokenizer', authors('tokenizer.json')];
    await expectOneLineError([...base, '--model', authors('vqa')], /no tokenizer: .*--tokenizer/);
    await expectOneLineError(
      [...base, '--model', authors('vqa'), ...tokenizer, '--labels', authors('nope.json')],
      /nope\.json: file not found/,
    );
    const twelve = path.join(mkdtempSync(path.join(os.tmpdir(), 'pumer-labels-')), 'labels.json');
    writeFileSync(twelve, JSON.stringify(Array.from({ length: 12 }, (_, i) => `a${i}`)));
    await expectOneLineError(
      [...base, '--model', authors('vqa'), ...tokenizer, '--labels', twelve],
      /12 labels, but the checkpoint's VQA head has 10 outputs/,
    );
    // The authors' VE checkpoint runs as visual entailment: its text is the hypothesis, given with --text.
    await expectOneLineError(
      [...base, '--model', authors('ve'), ...tokenizer],
      /ViltForVisualEntailment checkpoint \(visual entailment\) needs a text: give its hypothesis with --text/,
    );
  });
});

describe.skipIf(!present)('pumer eval on the authors checkpoint', () => {
  it('takes --labels and --tokenizer like run', async () => {
    const cases = read<AuthorsCase>(authors('cases.json')).filter((c) => c.head === 'vqa');
    const data = path.join(mkdtempSync(path.join(os.tmpdir(), 'pumer-eval-authors-')), 'eval.jsonl');
    writeFileSync(
      data,
      cases
        .map((c) =>
          JSON.stringify({ image: authors('images', c.images[0]!), question: c.text, answer: 'yes' }),
        )
        .join('\n'),
    );
    const argv = ['eval', '--model', authors('vqa'), '--data', data, '--backend', 'cpu', '--json'];
    const r = await runCli([...argv, ...authorsFiles()]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.n).toBe(cases.length);
    expect(json.schedule.config.reduceLayers).toEqual([1, 2, 3]);
    await expectOneLineError(argv, /no tokenizer: .*--tokenizer/);
  }, 60_000);
});
