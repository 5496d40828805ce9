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
 * WebGPU (SwiftShader). Asks the bundled circles image how many circles there are, on WebGPU, then
 * switches backend at run time; the answers must equal the CPU reference computed here.
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
  await page.waitForSelector('#status[data-state="ready"]', { timeout: 60_000 });
}, 180_000);

const scratch = mkdtempSync(join(tmpdir(), 'pumer-demo-folders-'));

afterAll(async () => {
  await chromium?.close();
  await server?.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function answerOn(backend: string): Promise<{ answer: string; provider: string }> {
  await page.waitForSelector(`#provider[data-provider="${backend === 'cpu' ? 'typescript' : backend}"]`, {
    timeout: 300_000,
  });
  await page.waitForSelector('#status[data-state="done"]', { timeout: 300_000 });
  return {
    answer: (await page.textContent('#answer'))!.trim(),
    provider: (await page.getAttribute('#provider', 'data-provider'))!,
  };
}

describe('web demo (production build) in Chromium', () => {
  it('answers on WebGPU like the CPU reference, and draws the reduce-layer overlays', async () => {
    await page.evaluate(() => {
      (window as unknown as { loadedOnce: boolean }).loadedOnce = true;
    });
    expect(await page.inputValue('#question')).toBe(QUESTION);
    expect(await page.inputValue('#backend')).toBe('webgpu');
    await page.click('#ask');
    const run = await answerOn('webgpu');
    expect(run.provider).toBe('webgpu');
    expect(run.answer).toBe(expected);
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
    await page.selectOption('#backend', 'wasm');
    const wasm = await answerOn('wasm');
    expect(wasm.answer).toBe(expected);
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
});
