import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { hasSharedData, sharedPath } from '@pumer/testkit/node';
import { bundledImages, defaultModelDir, writeSafetensors } from '@pumer/vilt/node';
import { describe, expect, it } from 'vitest';
import { ensureSyntheticCheckpoint, SYNTHETIC_GEOMETRIES } from '../bench/synthetic.js';
import { main } from '../program.js';
import { captureIO, runCli } from '../testing.js';

/** The shared task models and eval sets (TASKS.md of the reference data). */
const models = (...p: string[]) => sharedPath('models', ...p);
const have = hasSharedData('models', 'tasks-reference.json');
const reference = have ? JSON.parse(readFileSync(models('tasks-reference.json'), 'utf8')) : {};
const nlvr2 = models('tiny-vilt-shapes-nlvr2');
const retrieval = models('tiny-vilt-shapes-retrieval');
const nlvr2Data = models('shapes-nlvr2-eval', 'eval.jsonl');
const retrievalRows = (): { image: string; text: string }[] =>
  readFileSync(models('shapes-retrieval-eval', 'eval.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'pumer-tasks-'));

describe.skipIf(!have)('pumer run: the task comes from the checkpoint', () => {
  const [left, right] = ['0001-left.png', '0001-right.png'].map((f) =>
    models('shapes-nlvr2-eval', 'images', f),
  );

  it("NLVR2: --image twice, --text the statement; --json has the logits, labels and each pass's layers", async () => {
    const base = [
      'run',
      '--model',
      nlvr2,
      '--image',
      left!,
      '--image',
      right!,
      '--text',
      'there is one square in total',
    ];
    const r = await runCli([...base, '--schedule', 'unreduced', '--backend', 'node', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({ task: 'nlvr2', labels: ['False', 'True'], images: [left, right] });
    // Example 1 of the reference, unreduced (PyTorch): logits [False, True].
    const want = reference['tiny-vilt-shapes-nlvr2'].unreduced.logits[1] as number[];
    for (const [i, l] of (json.logits as number[]).entries()) expect(l).toBeCloseTo(want[i]!, 3);
    expect(json.value).toBe(want[1]! > want[0]!);
    const reduced = JSON.parse((await runCli([...base, '--schedule', 'pumer', '--json'])).stdout);
    expect(reduced.passes.map((p: { image: string }) => p.image)).toEqual([left, right]);
    for (const pass of reduced.passes) {
      expect(pass.layers).toHaveLength(6);
      expect(pass.layers[1].kind).toBe('pumer');
      expect(pass.layers[5].imageOut).toBeLessThan(65);
    }
    expect(reduced.layers).toEqual(reduced.passes[0].layers);
    const human = await runCli(base);
    expect(human.stdout).toMatch(/^statement there is one square in total$/m);
    expect(human.stdout).toContain('right image pass');
  });

  it('NLVR2 given one image, or --question, is a one-line error, exit 2', async () => {
    const one = await runCli(['run', '--model', nlvr2, '--image', left!, '--text', 'x']);
    expect(one.code).toBe(2);
    expect(one.stderr).toMatch(/^pumer: error: .*\(NLVR2\) takes two images: give --image twice.*\n$/);
    const q = await runCli(['run', '--model', nlvr2, '--image', left!, '--image', right!, '--question', 'x']);
    expect(q.code).toBe(2);
    expect(q.stderr).toMatch(/--question is for VQA checkpoints/);
  });

  it('retrieval: scores the one pair, logits holds its score', async () => {
    const rows = retrievalRows();
    const image = models('shapes-retrieval-eval', rows[0]!.image);
    const r = await runCli([
      'run',
      '--model',
      retrieval,
      '--image',
      image,
      '--text',
      rows[1]!.text,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.task).toBe('retrieval');
    expect(json.logits).toEqual([json.score]);
    // Caption 1 against image 0, unreduced (the checkpoint has no schedule).
    expect(json.score).toBeCloseTo(reference['tiny-vilt-shapes-retrieval'].unreduced.logits_10x10[1][0], 3);
  });
});

describe.skipIf(!have)('pumer retrieve', () => {
  it('scores texts × images, ranks both ways, and reproduces the reference scores (pumer schedule)', async () => {
    const dir = tmp();
    const rows = retrievalRows().slice(0, 10);
    const texts = path.join(dir, 'captions.txt');
    writeFileSync(texts, `${rows.map((r) => r.text).join('\n')}\n`);
    const images = rows.map((r) => models('shapes-retrieval-eval', r.image));
    const r = await runCli([
      'retrieve',
      '--model',
      retrieval,
      '--texts',
      texts,
      '--images',
      ...images,
      '--top',
      '3',
      '--schedule',
      'pumer',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.images).toEqual(images);
    const want = reference['tiny-vilt-shapes-retrieval'].pumer.logits_10x10 as number[][];
    // Reduced: a merge's float order differs from PyTorch's (within ~1e-3).
    for (const [t, row] of (json.scores as number[][]).entries())
      for (const [i, s] of row.entries()) expect(s).toBeCloseTo(want[t]![i]!, 2);
    expect(json.textToImage).toHaveLength(10);
    expect(json.imageToText).toHaveLength(10);
    for (const [t, list] of json.textToImage.entries()) {
      expect(list).toHaveLength(3);
      expect(list[0].score).toBe(Math.max(...json.scores[t]));
    }
    expect(json.pairs).toBe(100);
    expect(json.pairsPerSecond).toBeGreaterThan(0);
  });

  it('a folder lists its PNG/JPEG files sorted; the progress bar goes to stderr on a terminal', async () => {
    const dir = tmp();
    const texts = path.join(dir, 'captions.txt');
    writeFileSync(texts, 'a red circle\n');
    // A terminal as cli-progress sees one.
    const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 100 });
    let bar = '';
    stream.on('data', (d) => {
      bar += String(d);
    });
    const io = Object.assign(captureIO(), { stderrIsTTY: true, stderrStream: stream });
    const code = await main(
      [
        'retrieve',
        '--model',
        retrieval,
        '--texts',
        texts,
        '--images',
        models('shapes-retrieval-eval', 'images'),
      ],
      io,
    );
    expect(code, io.stderr).toBe(0);
    expect(bar).toMatch(/retrieve \[/);
    expect(io.stdout).toMatch(/1 texts × 100 images = 100 pairs in [\d.]+ s \([\d.]+ pairs\/s\)/);
    expect(io.stdout).toMatch(/^0000\.png$/m);
  });

  it('an empty line in the texts, or a checkpoint of another task, is a one-line error, exit 2', async () => {
    const dir = tmp();
    const texts = path.join(dir, 'captions.txt');
    writeFileSync(texts, 'a red circle\n\na blue square\n');
    const image = models('shapes-retrieval-eval', 'images', '0000.png');
    const r = await runCli(['retrieve', '--model', retrieval, '--texts', texts, '--images', image]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`pumer: error: ${texts}:2: empty line (one text per line)\n`);
    writeFileSync(texts, 'a red circle\n');
    const vqa = await runCli(['retrieve', '--model', defaultModelDir(), '--texts', texts, '--images', image]);
    expect(vqa.code).toBe(2);
    expect(vqa.stderr).toMatch(/needs an image-text retrieval checkpoint/);
  });
});

describe.skipIf(!have)('pumer eval --task', () => {
  it('NLVR2 on node reproduces the reference: 69.5% with pumer, 82.25% unreduced, every prediction', async () => {
    const r = await runCli([
      'eval',
      '--model',
      nlvr2,
      '--data',
      nlvr2Data,
      '--task',
      'nlvr2',
      '--schedule',
      'pumer',
      '--backend',
      'node',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    const ref = reference['tiny-vilt-shapes-nlvr2'];
    expect(json.task).toBe('nlvr2');
    expect(json.n).toBe(400);
    expect(json.accuracy).toBe(ref.pumer.accuracy);
    expect(json.unreduced.accuracy).toBe(ref.unreduced.accuracy);
    const asLabels = (p: boolean[]) => p.map((v) => (v ? 'True' : 'False'));
    expect(json.predictions).toEqual(asLabels(ref.pumer.predictions));
    expect(json.unreduced.predictions).toEqual(asLabels(ref.unreduced.predictions));
    expect(json.throughputUnit).toBe('examples/s');
    expect(json.throughput.speedup).toBeGreaterThan(0);
  }, 60_000);

  it('retrieval: recall@1/5/10 both ways on the first n captions and images', async () => {
    const r = await runCli([
      'eval',
      '--model',
      retrieval,
      '--data',
      models('shapes-retrieval-eval', 'eval.jsonl'),
      '--limit',
      '10',
      '--schedule',
      'unreduced',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.task).toBe('retrieval');
    expect(json.accuracy).toBeUndefined();
    expect(json.throughputUnit).toBe('pairs/s');
    // From the reference's 10 × 10 block of scores: caption t's own image is image t.
    const block = reference['tiny-vilt-shapes-retrieval'].unreduced.logits_10x10 as number[][];
    const rankOf = (t: number) => block[t]!.filter((s, i) => i !== t && s >= block[t]![t]!).length;
    const r1 = block.filter((_, t) => rankOf(t) === 0).length / 10;
    expect(json.recall.textToImage.r1).toBeCloseTo(r1, 12);
    expect(json.recall.textToImage.r10).toBe(1);
  });

  it('an unknown task, a task the checkpoint does not answer, or an NLVR2 row with one image: one line, exit 2', async () => {
    const bad = await runCli(['eval', '--model', nlvr2, '--data', nlvr2Data, '--task', 'captioning']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^pumer: error: option '--task <task>' argument 'captioning' is invalid.*\n$/);
    const other = await runCli(['eval', '--model', nlvr2, '--data', nlvr2Data, '--task', 'vqa']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/--task vqa, but .* is a NLVR2 checkpoint/);
    const data = path.join(tmp(), 'eval.jsonl');
    writeFileSync(data, `${JSON.stringify({ images: ['a.png'], text: 'x', label: true })}\n`);
    const one = await runCli(['eval', '--model', nlvr2, '--data', data]);
    expect(one.code).toBe(2);
    expect(one.stderr).toBe(
      `pumer: error: ${data}:1: NLVR2 rows need "images": [left, right], two image paths (got 1 image)\n`,
    );
  });
});

describe('visual entailment (a synthetic VE checkpoint: VE has no Hugging Face class, pumer_task marks it)', () => {
  const cache = tmp();
  const { dir: ve } = ensureSyntheticCheckpoint({
    geometry: SYNTHETIC_GEOMETRIES['tiny']!,
    task: 've',
    seed: 3,
    cache,
    tokenizerJsonPath: path.join(defaultModelDir(), 'tokenizer.json'),
    writeSafetensors,
  });
  const image = bundledImages()[0]!.path;

  it('run: --text is the hypothesis; three classes with their probabilities', async () => {
    const r = await runCli([
      'run',
      '--model',
      ve,
      '--image',
      image,
      '--text',
      'there is a red circle',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.task).toBe('ve');
    expect(json.labels).toEqual(['contradiction', 'neutral', 'entailment']);
    expect(json.logits).toHaveLength(3);
    expect(json.classes.reduce((s: number, c: { probability: number }) => s + c.probability, 0)).toBeCloseTo(
      1,
      5,
    );
    expect(json.label).toBe(
      json.classes.reduce((a: { logit: number }, b: { logit: number }) => (b.logit > a.logit ? b : a)).label,
    );
  });

  it('eval: {image, text, label} rows; accuracy with and without the reduction, agreement', async () => {
    const data = path.join(tmp(), 'eval.jsonl');
    const labels = ['entailment', 'neutral', 'contradiction'];
    writeFileSync(
      data,
      bundledImages()
        .map((b, i) => JSON.stringify({ image: b.path, text: b.question, label: labels[i % 3] }))
        .join('\n'),
    );
    const r = await runCli(['eval', '--model', ve, '--data', data, '--schedule', 'pumer', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.task).toBe('ve');
    expect(json.n).toBe(bundledImages().length);
    const correct = json.predictions.filter((p: string, i: number) => p === labels[i % 3]).length;
    expect(json.accuracy).toBe(correct / json.n);
    expect(json.agreement).toBeGreaterThanOrEqual(0);
    writeFileSync(data, JSON.stringify({ image, text: 'x', label: 'maybe' }));
    const bad = await runCli(['eval', '--model', ve, '--data', data]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/label "maybe" is not one of the checkpoint's classes/);
  });
});
