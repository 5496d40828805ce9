import { createCpuBackend } from '@pumer/backend-cpu';
import { maxAbsDiff, runMeterGoldenDocument } from '@pumer/testkit';
import { compareMeterOutputs } from '@pumer/testkit';
import {
  hasSharedData,
  meterGoldenFiles,
  meterModelDir,
  readMeterGoldenDocument,
  readMeterModelCases,
} from '@pumer/testkit/node';
import { loadMeter } from '@pumer/meter/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebGpuBackend, type WebGpuBackend } from '../src/index.js';

/**
 * METER on the webgpu provider in Node (Dawn + SwiftShader, as node.test.ts sets it up): every golden
 * co-attention step, and one tiny checkpoint (NLVR2: two image passes) against the authors' run and the CPU
 * reference. SwiftShader compiles every shader on the CPU, so the file keeps to one backend (shaders compiled
 * for one case serve the next) and one checkpoint.
 */
const present = hasSharedData('meter');
const MODEL = 'tiny-meter-nlvr2';

let backend: WebGpuBackend;

beforeAll(async () => {
  if (present) backend = await createWebGpuBackend({ provider: 'webgpu' });
}, 60_000);

afterAll(async () => {
  await backend?.dispose();
});

describe.skipIf(!present)('METER on webgpu in Node (Dawn)', () => {
  it('passes every golden co-attention step', async () => {
    expect(backend.info().provider).toBe('webgpu');
    const files = meterGoldenFiles();
    expect(files.length).toBeGreaterThanOrEqual(11);
    const results = [];
    for (const f of files) results.push(await runMeterGoldenDocument(readMeterGoldenDocument(f), f, backend));
    expect(results.filter((r) => !r.passed).map((r) => `${r.name}: ${r.reason}`)).toEqual([]);
    const worst = Math.max(...results.map((r) => r.maxAbsErr));
    console.log(
      `[webgpu/node] METER golden ${results.length} passed, worst max_abs_err ${worst.toExponential(2)}`,
    );
  }, 600_000);

  it(`matches the authors' ${MODEL} runs and the CPU reference, reduced and unreduced`, async () => {
    const cases = readMeterModelCases(MODEL);
    const { model } = loadMeter(meterModelDir(MODEL));
    const cpu = createCpuBackend();
    const runs = [
      ['reduced', cases.config, cases.reduced],
      ['unreduced', null, cases.unreduced],
    ] as const;
    for (const [label, config, want] of runs) {
      const got = await backend.runMeter(model, cases.inputs, config);
      expect(compareMeterOutputs(got, want).problems, label).toEqual([]);
      const ref = await cpu.runMeter(model, cases.inputs, config);
      const diff = maxAbsDiff(got.logits, ref.logits);
      console.log(`[webgpu/node] ${MODEL} ${label}: max|dlogit| vs cpu ${diff.toExponential(2)}`);
      expect(diff).toBeLessThanOrEqual(1e-4);
      expect(got.passes?.map((p) => p.map((s) => [s.textOut, s.imageOut]))).toEqual(
        ref.passes?.map((p) => p.map((s) => [s.textOut, s.imageOut])),
      );
    }
    // Every node of the METER graphs runs on the GPU (index arithmetic stays float/int32, no int64 on CPU).
    for (const [label, p] of backend.placements()) {
      if (!label.startsWith('meter')) continue;
      expect(p.byProvider['CPUExecutionProvider'] ?? [], label).toEqual([]);
    }
  }, 600_000);
});
