import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// The CPU reference the page's answers are checked against: registered on import.
import '@pumer/backend-cpu';
import {
  bundledImages,
  createNlvr2Pipeline,
  createRetrievalPipeline,
  createVqaPipeline,
  defaultModelDir,
  loadVilt,
} from '@pumer/vilt/node';
import type { Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type LaunchedChromium,
  launchChromium,
  type StaticServer,
  serveStatic,
} from '@pumer/testkit/chromium';

/**
 * End to end: the production build served by a plain static server, opened in headless Chromium with
 * WebGPU (SwiftShader). On load the page answers the first bundled question (the circles image: how many
 * circles are there?) on WebGPU without a click; then it switches backend at run time. A second page, whose
 * navigator.gpu is taken away, must start on wasm and say why. Every answer must equal the CPU reference
 * computed here.
 */
const APP = dirname(dirname(fileURLToPath(import.meta.url)));
const DIST = join(APP, 'dist');
const RESULTS = join(APP, 'test-results');
const QUESTION = 'how many circles are there?';
const ASSETS = join(APP, 'assets');

/** The bundled NLVR2 pairs and retrieval gallery (assets/, served as nlvr2-pairs/ and retrieval-gallery/). */
interface Pair {
  readonly left: string;
  readonly right: string;
  readonly statement: string;
  readonly label: boolean;
}
interface GalleryImage {
  readonly image: string;
  readonly caption: string;
}
const PAIRS_DIR = join(ASSETS, 'shapes-nlvr2');
const GALLERY_DIR = join(ASSETS, 'shapes-retrieval');
const pairs = JSON.parse(readFileSync(join(PAIRS_DIR, 'pairs.json'), 'utf8')) as Pair[];
const gallery = JSON.parse(readFileSync(join(GALLERY_DIR, 'gallery.json'), 'utf8')) as GalleryImage[];
/** The second caption the retrieval test types (the first is selected on the task's first use). */
const TYPED = 5;

/** Newest modification time under `path` (files only). */
function newest(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((f) => newest(join(path, f))));
}

/** Reuses dist/ when it is newer than the sources, else builds it (Vite, ~10 s). */
async function ensureBuild(): Promise<void> {
  const built = join(DIST, 'index.html');
  const sources = Math.max(
    newest(join(APP, 'src')),
    newest(join(APP, 'index.html')),
    newest(join(APP, 'vite.config.ts')),
    newest(ASSETS),
  );
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  await build({ root: APP, configFile: join(APP, 'vite.config.ts'), logLevel: 'warn' });
}

let chromium: LaunchedChromium;
let server: StaticServer;
let page: Page;
let expected: string;
/** The CPU reference's NLVR2 label ("True"/"False") of pairs 0 and 1. */
let expectedPairs: string[];
/** The CPU reference's best gallery image for captions 0 and TYPED. */
let expectedBest: string[];
const pageErrors: string[] = [];

beforeAll(async () => {
  const circles = bundledImages().find((i) => i.question === QUESTION);
  if (!circles) throw new Error(`no bundled image asks "${QUESTION}"`);
  const reference = await createVqaPipeline({
    model: loadVilt(defaultModelDir()),
    backend: 'cpu',
    reduction: 'model',
  });
  expected = (await reference.answer(circles.path, QUESTION)).answers[0]!.label;
  const nlvr2 = await createNlvr2Pipeline({
    model: loadVilt(join(ASSETS, 'tiny-vilt-shapes-nlvr2-pumer')),
    backend: 'cpu',
    reduction: 'model',
  });
  expectedPairs = [];
  for (const p of pairs.slice(0, 2)) {
    const r = await nlvr2.predict([join(PAIRS_DIR, p.left), join(PAIRS_DIR, p.right)], p.statement);
    expectedPairs.push(r.label);
  }
  const retrieval = await createRetrievalPipeline({
    model: loadVilt(join(ASSETS, 'tiny-vilt-shapes-retrieval-pumer')),
    backend: 'cpu',
    reduction: 'model',
  });
  const ranked = await retrieval.rank({
    texts: [gallery[0]!.caption, gallery[TYPED]!.caption],
    images: gallery.map((g) => join(GALLERY_DIR, g.image)),
  });
  expectedBest = ranked.textToImage.map((matches) => gallery[matches[0]!.index]!.image);
  await ensureBuild();
  server = await serveStatic({ '/': DIST });
  chromium = await launchChromium();
  page = await chromium.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${server.url}/index.html`);
}, 180_000);

const scratch = mkdtempSync(join(tmpdir(), 'pumer-demo-folders-'));

afterAll(async () => {
  await chromium?.close();
  await server?.close();
  rmSync(scratch, { recursive: true, force: true });
});

interface Shown {
  readonly answer: string;
  readonly provider: string;
  /** What the page says ran, e.g. "WebGPU on google swiftshader (software)". */
  readonly label: string;
}

/** Waits until `on` shows an answer from `backend` (cpu's provider is typescript), and reads it. */
async function answerOn(backend: string, on: Page = page): Promise<Shown> {
  await on.waitForSelector(`#provider[data-provider="${backend === 'cpu' ? 'typescript' : backend}"]`, {
    timeout: 300_000,
  });
  await on.waitForSelector('#status[data-state="done"]', { timeout: 300_000 });
  return {
    answer: (await on.textContent('#answer'))!.trim(),
    provider: (await on.getAttribute('#provider', 'data-provider'))!,
    label: (await on.textContent('#provider'))!.trim(),
  };
}

describe('web demo (production build) in Chromium', () => {
  it('answers the first bundled question on load, on WebGPU, labelled with its adapter, without a click', async () => {
    // No click anywhere before this: the answer, the label and the overlays come from the page's start.
    const run = await answerOn('webgpu');
    await page.evaluate(() => {
      (window as unknown as { loadedOnce: boolean }).loadedOnce = true;
    });
    expect(await page.inputValue('#question')).toBe(QUESTION);
    expect(await page.inputValue('#backend')).toBe('webgpu');
    expect(run.provider).toBe('webgpu');
    expect(run.label).toMatch(/^WebGPU on google swiftshader \(software\)$/);
    expect(run.answer).toBe(expected);
    expect(await page.isHidden('#backend-note')).toBe(true);
    // SwiftShader is WebGPU on the CPU: the backend's warning shows.
    expect(await page.isVisible('#backend-warning')).toBe(true);
    expect(await page.textContent('#backend-warning')).toMatch(/software adapter/);
    expect(await page.textContent('#status')).toMatch(
      /^Answered on WebGPU on google swiftshader \(software\) /,
    );
    // The model's own schedule reduces in layers 1 and 3: one overlay each, with pixels drawn.
    const overlays = await page.$$eval('figure.reduce-layer canvas', (canvases) =>
      (canvases as HTMLCanvasElement[]).map((c) => {
        const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let opaque = 0;
        const colours = new Set<number>();
        for (let i = 0; i < data.length; i += 4) {
          if (data[i + 3]! > 0) opaque++;
          colours.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
        }
        return { width: c.width, opaque, colours: colours.size };
      }),
    );
    expect(overlays).toHaveLength(2);
    for (const o of overlays) {
      expect(o.width).toBeGreaterThan(0);
      expect(o.opaque).toBeGreaterThan(0);
      expect(o.colours).toBeGreaterThan(10); // image + saliency tints + pruned/merged marks
    }
    const captions = await page.$$eval('figure.reduce-layer figcaption', (els) =>
      els.map((e) => e.textContent ?? ''),
    );
    expect(captions.join(' ')).toMatch(/pruned/);
    mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: join(RESULTS, 'web-demo-webgpu.png'), fullPage: true });
  }, 400_000);

  it('switches backend at run time without reloading and gives the same answer', async () => {
    await page.selectOption('#backend', 'cpu'); // the change re-runs the question
    const cpu = await answerOn('cpu');
    expect(cpu.answer).toBe(expected);
    expect(cpu.label).toBe('TypeScript reference');
    expect(await page.isHidden('#backend-warning')).toBe(true);
    await page.selectOption('#backend', 'wasm');
    const wasm = await answerOn('wasm');
    expect(wasm.answer).toBe(expected);
    expect(wasm.label).toBe('wasm (onnxruntime-web, CPU)');
    expect(await page.evaluate(() => (window as unknown as { loadedOnce?: boolean }).loadedOnce)).toBe(true);
    await page.screenshot({ path: join(RESULTS, 'web-demo-wasm.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  }, 300_000);

  it('opens a checkpoint folder from disk and answers with it; a broken folder shows its error', async () => {
    // The embedded model's own files, with a labels.json that renames every answer: the page's answer then
    // shows that the folder's model ran.
    const folder = join(scratch, 'my-checkpoint');
    mkdirSync(folder);
    for (const f of readdirSync(defaultModelDir())) copyFileSync(join(defaultModelDir(), f), join(folder, f));
    const labels = loadVilt(defaultModelDir()).model.labels.map((l) => `folder:${l}`);
    writeFileSync(join(folder, 'labels.json'), JSON.stringify(labels));
    await page.selectOption('#backend', 'cpu');
    await answerOn('cpu');
    await page.setInputFiles('#model-folder', folder);
    await page.waitForSelector('#status[data-state="ready"]', { timeout: 60_000 });
    expect(await page.textContent('#status')).toMatch(/my-checkpoint.*Hugging Face layout.*14 answers/);
    expect(await page.textContent('#model-name')).toContain('my-checkpoint');
    await page.click('#ask');
    expect((await answerOn('cpu')).answer).toBe(`folder:${expected}`);

    const broken = join(scratch, 'broken');
    mkdirSync(broken);
    copyFileSync(join(defaultModelDir(), 'config.json'), join(broken, 'config.json'));
    await page.setInputFiles('#model-folder', broken);
    await page.waitForSelector('#status[data-state="error"]', { timeout: 60_000 });
    expect(await page.textContent('#status')).toMatch(/Could not open “broken”: the folder has no weights/);

    await page.click('#model-embedded');
    await page.click('#ask');
    expect((await answerOn('cpu')).answer).toBe(expected);
    await page.screenshot({ path: join(RESULTS, 'web-demo-folder.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  }, 300_000);

  it('the bundled NLVR2 pairs and retrieval captions are answered right by the CPU reference', () => {
    // The demo bundles examples the model gets right, so the page's answers below can be checked against
    // the eval set's labels.
    expect(expectedPairs).toEqual(pairs.slice(0, 2).map((p) => (p.label ? 'True' : 'False')));
    expect(expectedBest).toEqual([gallery[0]!.image, gallery[TYPED]!.image]);
  });

  it('NLVR2: answers a bundled pair as the eval set labels it, with an overlay per image pass', async () => {
    await page.selectOption('#backend', 'cpu');
    await answerOn('cpu');
    await page.selectOption('#task', 'nlvr2'); // loads the NLVR2 model and pairs, then runs the first pair
    const cpu = await answerOn('cpu');
    expect(await page.inputValue('#question')).toBe(pairs[0]!.statement);
    // Only the NLVR2 controls show: the pairs, not VQA's images or the retrieval gallery.
    expect(await page.isVisible('#pairs')).toBe(true);
    expect(await page.isHidden('#gallery')).toBe(true);
    expect(await page.isHidden('#retrieval-gallery')).toBe(true);
    expect(cpu.answer).toBe(expectedPairs[0]);
    expect(await page.textContent('#expected')).toBe(`The eval set says: ${expectedPairs[0]} ✓`);
    expect(await page.textContent('#status')).toMatch(/^Answered on TypeScript reference /);
    // One section per image pass, each with the input and one overlay per reduce layer (1 and 3).
    const passes = await page.$$eval('#overlays section.image-pass', (sections) =>
      sections.map((s) => ({
        title: s.querySelector('h3')?.textContent ?? '',
        colours: [...s.querySelectorAll<HTMLCanvasElement>('figure.reduce-layer canvas')].map((c) => {
          const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
          const colours = new Set<number>();
          for (let i = 0; i < data.length; i += 4)
            colours.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
          return colours.size;
        }),
      })),
    );
    expect(passes.map((p) => p.title)).toEqual(['left image — its own pass', 'right image — its own pass']);
    for (const p of passes) {
      expect(p.colours).toHaveLength(2);
      for (const c of p.colours) expect(c).toBeGreaterThan(10);
    }
    // Another bundled pair: picking it fills in its statement; the answer follows it.
    await page.click(`#pairs button[data-name="${pairs[1]!.left}"]`);
    await page.waitForFunction(
      (statement) => (document.getElementById('question') as HTMLInputElement).value === statement,
      pairs[1]!.statement,
    );
    await page.click('#ask');
    expect((await answerOn('cpu')).answer).toBe(expectedPairs[1]);
    // The same pair on onnxruntime-web: the two-pass graph gives the same answer.
    await page.selectOption('#backend', 'wasm');
    expect((await answerOn('wasm')).answer).toBe(expectedPairs[1]);
    expect(await page.textContent('#expected')).toBe(`The eval set says: ${expectedPairs[1]} ✓`);
    await page.screenshot({ path: join(RESULTS, 'web-demo-nlvr2.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  }, 300_000);

  /** The ranked gallery as shown: image names best first, and their scores. */
  async function ranking(): Promise<{ images: string[]; scores: number[] }> {
    const rows = await page.$$eval('#ranking li', (lis) =>
      lis.map((li) => ({
        image: (li as HTMLElement).dataset['image'] ?? '',
        score: Number(li.querySelector('.score')?.textContent),
      })),
    );
    return { images: rows.map((r) => r.image), scores: rows.map((r) => r.score) };
  }

  it('retrieval: ranks the gallery for a bundled caption with its own image first, scores best first', async () => {
    await page.selectOption('#task', 'retrieval'); // on wasm, still selected
    await answerOn('wasm');
    expect(await page.inputValue('#question')).toBe(gallery[0]!.caption);
    expect(await page.isVisible('#retrieval-gallery')).toBe(true);
    expect(await page.isHidden('#pairs')).toBe(true);
    const first = await ranking();
    expect(first.images).toHaveLength(gallery.length);
    expect(new Set(first.images)).toEqual(new Set(gallery.map((g) => g.image)));
    expect(first.images[0]).toBe(gallery[0]!.image);
    expect(first.images[0]).toBe(expectedBest[0]);
    for (let i = 1; i < first.scores.length; i++)
      expect(first.scores[i]!).toBeLessThanOrEqual(first.scores[i - 1]!);
    expect(await page.getAttribute('#answer', 'data-image')).toBe(gallery[0]!.image);
    expect(await page.textContent('#status')).toMatch(/^Ranked 8 images on wasm \(onnxruntime-web, CPU\) /);
    // The reduction's tokens after each of the 6 layers, and the best match's overlays (layers 1 and 3).
    expect(await page.textContent('#layer-tokens')).toMatch(/^L0 \d+\+\d+( · L\d \d+\+\d+){5}$/);
    expect(await page.$$('#overlays section.image-pass')).toHaveLength(1);
    expect(await page.$$('#overlays figure.reduce-layer canvas')).toHaveLength(2);

    // A typed caption (another image's eval caption): that image comes first, on wasm and on the CPU.
    await page.fill('#question', gallery[TYPED]!.caption);
    await page.press('#question', 'Enter');
    await answerOn('wasm');
    expect((await ranking()).images[0]).toBe(gallery[TYPED]!.image);
    await page.selectOption('#backend', 'cpu');
    await answerOn('cpu');
    const cpu = await ranking();
    expect(cpu.images[0]).toBe(gallery[TYPED]!.image);
    expect(cpu.images[0]).toBe(expectedBest[1]);
    await page.screenshot({ path: join(RESULTS, 'web-demo-retrieval.png'), fullPage: true });

    // Back to VQA: its question and answer are where they were.
    await page.selectOption('#task', 'vqa');
    const vqa = await answerOn('cpu');
    expect(await page.inputValue('#question')).toBe(QUESTION);
    expect(vqa.answer).toBe(expected);
    expect(pageErrors).toEqual([]);
  }, 300_000);

  it('without WebGPU starts on wasm, says why in one line, labels it wasm, and answers on load', async () => {
    const noGpu = await chromium.context.newPage();
    const errors: string[] = [];
    noGpu.on('pageerror', (e) => errors.push(e.message));
    // A browser without WebGPU: navigator.gpu is undefined before any script of the page runs.
    await noGpu.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true });
    });
    try {
      await noGpu.goto(`${server.url}/index.html`);
      const run = await answerOn('wasm', noGpu);
      expect(await noGpu.evaluate(() => (navigator as { gpu?: unknown }).gpu)).toBeUndefined();
      expect(await noGpu.inputValue('#backend')).toBe('wasm');
      expect(run.label).toBe('wasm (onnxruntime-web, CPU)');
      expect(run.answer).toBe(expected);
      const note = (await noGpu.textContent('#backend-note'))!;
      expect(await noGpu.isVisible('#backend-note')).toBe(true);
      expect(note).toMatch(
        /^WebGPU is not available here \(navigator\.gpu is undefined: .*\), so the demo runs on wasm \(onnxruntime-web, CPU\)\.$/,
      );
      expect(note).not.toContain('\n');
      expect(await noGpu.isDisabled('#backend option[value="webgpu"]')).toBe(true);
      expect(await noGpu.isHidden('#backend-warning')).toBe(true);
      await noGpu.screenshot({ path: join(RESULTS, 'web-demo-no-webgpu.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await noGpu.close();
    }
  }, 300_000);
});
