import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// The CPU reference the page's answers are checked against: registered on import.
import '@pumer/backend-cpu';
import { createVqaPipeline, bundledImages, defaultModelDir, loadVilt } from '@pumer/vilt/node';
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
  );
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  await build({ root: APP, configFile: join(APP, 'vite.config.ts'), logLevel: 'warn' });
}

let chromium: LaunchedChromium;
let server: StaticServer;
let page: Page;
let expected: string;
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
