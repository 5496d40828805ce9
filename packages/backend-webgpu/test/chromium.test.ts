import { createCpuBackend } from '@pumer/backend-cpu';
import { CONTRACT_CASES, type ContractResult, compareOutputs, modelParitySchedules } from '@pumer/testkit';
import { checkpointDir, evalBatch, evalRows, goldenFiles, MODEL_CHECKPOINTS } from '@pumer/testkit/node';
import { decodeImageFile, type LoadedVilt, loadVilt, prepareImage } from '@pumer/vilt/node';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebGpuBackendInfo } from '../src/index.js';
import { checkHeadCase, HEAD_CASES_PRESENT, headCases } from './head-cases.js';
import type { PageApi } from './browser/page.js';
import { openTestPage, type TestPage } from './browser/test-page.js';
import { inputsToWire, outputsFromWire } from './browser/wire.js';

/** Examples per model-parity batch: 2 keeps the batch dimension honest; SwiftShader makes every row costly. */
const PARITY_BATCH = 2;
const SCHEDULES = modelParitySchedules();

const batch = (m: LoadedVilt, n: number) =>
  evalBatch(evalRows(n), (path) => prepareImage(decodeImageFile(path), m.preprocessor, path));

/**
 * The backend as an ESM bundle inside headless Chromium (WebGPU on SwiftShader): the backend contract suite
 * and golden cases run in the page, model parity against the CPU reference computed here in Node. A fallback
 * to wasm fails the test.
 */
let testPage: TestPage;
let page: Page;

declare const pumerTest: PageApi;

beforeAll(async () => {
  testPage = await openTestPage({ real: HEAD_CASES_PRESENT });
  page = testPage.page;
}, 120_000);

afterAll(async () => {
  await testPage?.close();
});

describe('webgpu backend in Chromium', () => {
  it('runs on the webgpu provider (a fallback to wasm is a failure)', async () => {
    const info: WebGpuBackendInfo = await page.evaluate(() => pumerTest.init('webgpu'));
    console.log(`[webgpu/chromium] ${JSON.stringify(info)}`);
    expect(info.provider).toBe('webgpu');
    expect(info.fallbackReason).toBeUndefined();
    expect(info.adapter).toMatch(/swiftshader|\S/i);
  }, 120_000);

  describe('backend contract on webgpu in Chromium', () => {
    // The page runs every case (one evaluate: each crossing costs a round trip); each case is asserted here.
    let results: ContractResult[] | undefined;
    const result = async (name: string) => {
      results ??= await page.evaluate(() => pumerTest.contract());
      return results.find((r) => r.name === name);
    };
    it.each(CONTRACT_CASES.map((c) => c.name))(
      '%s',
      async (name) => {
        const r = await result(name);
        expect(r, `no result for ${name}`).toBeDefined();
        expect(r!.got, r!.reason).toBe(r!.expected);
        expect(r!.reason ?? '').toBe('');
      },
      300_000,
    );
  });

  it('passes every golden case inside the page', async () => {
    const files = goldenFiles();
    const results = await page.evaluate((f) => pumerTest.golden(f), files);
    expect(results).toHaveLength(files.length);
    expect(results.filter((r) => !r.passed)).toEqual([]);
    console.log(
      `[webgpu/chromium] golden ${results.length} passed, worst max_abs_err ${Math.max(...results.map((r) => r.maxAbsErr)).toExponential(2)}`,
    );
  }, 600_000);

  it('matches the CPU reference on both tiny checkpoints x unreduced / pumer / aggressive', async () => {
    const cpu = createCpuBackend();
    const failures: string[] = [];
    for (const name of MODEL_CHECKPOINTS) {
      const loaded = loadVilt(checkpointDir(name));
      const inputs = batch(loaded, PARITY_BATCH);
      const wire = inputsToWire(inputs);
      for (const s of SCHEDULES) {
        const want = await cpu.runVilt(loaded.model, inputs, s.config);
        const got = outputsFromWire(
          await page.evaluate(([n, i, c]) => pumerTest.runVilt('webgpu', n, i, c), [
            name,
            wire,
            s.config,
          ] as const),
        );
        const { maxAbs, reason } = compareOutputs(got, want, 1e-3);
        console.log(
          `[webgpu/chromium] ${name} ${s.name}  max|dlogit| ${maxAbs.toExponential(2)}  ${reason ?? 'PASS'}`,
        );
        if (reason) failures.push(`${name} ${s.name}: ${reason}`);
      }
    }
    expect(failures).toEqual([]);
    const info = await page.evaluate(() => pumerTest.info('webgpu'));
    expect(info.provider).toBe('webgpu');
    expect(Array.isArray(info.offloadedOps)).toBe(true);
    console.log(`[webgpu/chromium] offloadedOps: [${info.offloadedOps!.join(', ')}]`);
  }, 900_000);

  it.skipIf(!HEAD_CASES_PRESENT)(
    'every task head (NLVR2 padded pair, retrieval, VE) in the page as the reference and the CPU reference give it',
    async () => {
      const failures: string[] = [];
      for (const c of headCases()) {
        const got = outputsFromWire(
          await page.evaluate(([u, i, r]) => pumerTest.runCheckpoint(u, i, r), [
            c.urls,
            inputsToWire(c.inputs),
            c.reduction,
          ] as const),
        );
        const { maxAbs, reason } = await checkHeadCase(c, got, 1e-4);
        console.log(
          `[webgpu/chromium] ${c.label}  max|dlogit| ${maxAbs.toExponential(2)}  ${reason ?? 'PASS'}`,
        );
        if (reason) failures.push(`${c.label}: ${reason}`);
      }
      expect(failures).toEqual([]);
      expect((await page.evaluate(() => pumerTest.info('webgpu'))).provider).toBe('webgpu');
    },
    900_000,
  );

  it('measures webgpu vs wasm latency in the page (tiny pumer model, batch 1)', async () => {
    const loaded = loadVilt(checkpointDir('tiny-vilt-shapes-pumer'));
    const wire = inputsToWire(batch(loaded, 1));
    const config = SCHEDULES[1]!.config;
    const gpuMs = await page.evaluate(
      ([i, c]) => pumerTest.time('webgpu', 'tiny-vilt-shapes-pumer', i, c, 3),
      [wire, config] as const,
    );
    const wasmMs = await page.evaluate(
      ([i, c]) => pumerTest.time('wasm', 'tiny-vilt-shapes-pumer', i, c, 3),
      [wire, config] as const,
    );
    console.log(
      `[webgpu/chromium] tiny pumer batch 1: webgpu ${gpuMs.toFixed(1)} ms, wasm ${wasmMs.toFixed(1)} ms, ratio webgpu/wasm ${(gpuMs / wasmMs).toFixed(1)}`,
    );
    expect(gpuMs).toBeGreaterThan(0);
    expect(wasmMs).toBeGreaterThan(0);
    expect(testPage.errors).toEqual([]);
  }, 300_000);
});
