import type { ViltOutputs } from '@pumer/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebGpuBackend, type WebGpuBackend } from '../src/index.js';
import type { PageApi } from './browser/page.js';
import { openTestPage, type TestPage } from './browser/test-page.js';
import { inputsToWire, outputsFromWire } from './browser/wire.js';
import { allHeadCases, checkHeadCase, HEAD_CASES_PRESENT, type HeadCase } from './head-cases.js';

/**
 * The long check: every task-head case of ../shared/real and ../shared/real/authors (allHeadCases) on webgpu
 * in Node (Dawn) and in Chromium, against the reference logits and the CPU reference's logits and reduce
 * decisions. Minutes on SwiftShader, so it runs only with PUMER_ALL_HEAD_CASES=1 (node.test.ts and
 * chromium.test.ts run one case per head on every run).
 */
const TOLERANCE = 1e-4;

declare const pumerTest: PageApi;

/** Runs every case through `run`, logs each and the summary, and asserts none failed. */
async function checkAll(
  tag: string,
  cases: readonly HeadCase[],
  run: (c: HeadCase) => Promise<ViltOutputs>,
): Promise<void> {
  const failures: string[] = [];
  const decisionDiffs: string[] = [];
  let vsReference = 0;
  let vsCpu = 0;
  for (const c of cases) {
    const check = await checkHeadCase(c, await run(c), TOLERANCE);
    // NaN (no reference logits) leaves the maximum alone; a NaN from mismatched shapes is a failure anyway.
    if (check.vsReference > vsReference) vsReference = check.vsReference;
    if (check.vsCpu > vsCpu) vsCpu = check.vsCpu;
    if (check.decisions) decisionDiffs.push(`${c.label}: ${check.decisions}`);
    if (check.reason) failures.push(`${c.label}: ${check.reason}`);
    console.log(
      `[${tag}] ${c.label}  |d ref| ${check.vsReference.toExponential(2)}  |d cpu| ${check.vsCpu.toExponential(2)}  ${check.reason ?? 'PASS'}`,
    );
  }
  console.log(
    `[${tag}] ${cases.length} cases, max |logit - reference| ${vsReference.toExponential(2)}, max |logit - cpu| ${vsCpu.toExponential(2)}, reduce decisions differing from cpu: ${decisionDiffs.length ? decisionDiffs.join('; ') : 'none'}`,
  );
  expect(failures).toEqual([]);
}

describe.skipIf(!process.env['PUMER_ALL_HEAD_CASES'])('every task-head case on webgpu (long check)', () => {
  let cases: HeadCase[];

  beforeAll(() => {
    // Asked for explicitly: missing data is a failure, not a skip.
    expect(HEAD_CASES_PRESENT, '../shared/real and ../shared/real/authors cases.json').toBe(true);
    cases = allHeadCases();
  }, 120_000);

  describe('in Node (Dawn)', () => {
    let backend: WebGpuBackend;

    beforeAll(async () => {
      backend = await createWebGpuBackend({ provider: 'webgpu' });
    }, 60_000);

    afterAll(async () => {
      await backend?.dispose();
    });

    it('agrees with the reference and cpu on every case', async () => {
      await checkAll('webgpu/node', cases, (c) => backend.runVilt(c.loaded.model, c.inputs, c.reduction));
      expect(backend.info().provider).toBe('webgpu');
    }, 3_600_000);
  });

  describe('in Chromium', () => {
    let testPage: TestPage;

    beforeAll(async () => {
      testPage = await openTestPage({ real: true });
    }, 120_000);

    afterAll(async () => {
      await testPage?.close();
    });

    it('agrees with the reference and cpu on every case', async () => {
      const { page } = testPage;
      await checkAll('webgpu/chromium', cases, async (c) =>
        outputsFromWire(
          await page.evaluate(([u, i, r]) => pumerTest.runCheckpoint(u, i, r), [
            c.urls,
            inputsToWire(c.inputs),
            c.reduction,
          ] as const),
        ),
      );
      expect((await testPage.page.evaluate(() => pumerTest.info('webgpu'))).provider).toBe('webgpu');
      expect(testPage.errors).toEqual([]);
    }, 3_600_000);
  });
});
