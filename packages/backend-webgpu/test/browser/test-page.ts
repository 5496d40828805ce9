import { goldenDir, modelsDir, sharedPath } from '@pumer/testkit/node';
import { launchChromium, serveStatic } from '@pumer/testkit/chromium';
import type { Page } from 'playwright-core';
import { bundlePage } from './bundle.js';
import { ortDistDir } from './ort-files.js';

/** The test page open in headless Chromium, the errors it logged, and how to shut both down. */
export interface TestPage {
  readonly page: Page;
  /** Uncaught page errors and console errors, in order. */
  readonly errors: string[];
  close(): Promise<void>;
}

/**
 * Serves the bundled test page (ort's files, the golden cases, the tiny checkpoints and, with `real`,
 * ../shared/real at /real) from 127.0.0.1 and opens it in Chromium; resolves once the page says it is ready.
 */
export async function openTestPage(options: { real: boolean }): Promise<TestPage> {
  const bundle = await bundlePage();
  const html =
    '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>pumer-webgpu-test</title>' +
    '<script type="module" src="/page.js"></script>';
  const server = await serveStatic(
    {
      '/ort': ortDistDir(),
      '/golden': goldenDir(),
      '/models': modelsDir(),
      ...(options.real ? { '/real': sharedPath('real') } : {}),
    },
    { '/': html, '/index.html': html, '/page.js': bundle },
  );
  const chromium = await launchChromium().catch(async (e: unknown) => {
    await server.close();
    throw e;
  });
  const close = async () => {
    await chromium.close();
    await server.close();
  };
  const errors: string[] = [];
  try {
    const page = await chromium.context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => document.title === 'pumer-webgpu-test ready', undefined, {
      timeout: 30_000,
    });
    return { page, errors, close };
  } catch (e) {
    await close();
    throw e;
  }
}
