import { createCpuBackend } from '@pumer/backend-cpu';
import { compareOutputs, modelParitySchedules, runGoldenDocument } from '@pumer/testkit';
import {
  checkpointDir,
  evalBatch,
  evalRows,
  goldenFiles,
  MODEL_CHECKPOINTS,
  readGoldenDocument,
} from '@pumer/testkit/node';
import { describeBackendContract } from '@pumer/testkit/vitest';
import { decodeImageFile, type LoadedVilt, loadVilt, prepareImage } from '@pumer/vilt/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebGpuBackend, SWIFTSHADER_ICD, type WebGpuBackend } from '../src/index.js';
import { checkHeadCase, HEAD_CASES_PRESENT, headCases } from './head-cases.js';

/** Examples per model-parity batch: 2 keeps the batch dimension honest; SwiftShader makes every row costly. */
const PARITY_BATCH = 2;
const SCHEDULES = modelParitySchedules();

const batch = (m: LoadedVilt, n: number) =>
  evalBatch(evalRows(n), (path) => prepareImage(decodeImageFile(path), m.preprocessor, path));

/**
 * The backend for real in Node: Dawn + SwiftShader's Vulkan driver, onnxruntime-web's webgpu provider.
 * One backend for the whole file, so shaders compiled for one case serve the next.
 */
let backend: WebGpuBackend;

beforeAll(async () => {
  backend = await createWebGpuBackend({ provider: 'webgpu' });
}, 60_000);

afterAll(async () => {
  await backend?.dispose();
});

describe('webgpu backend in Node (Dawn)', () => {
  it('runs on the webgpu provider with a SwiftShader (or real) adapter', () => {
    const info = backend.info();
    expect(info.name).toBe('webgpu');
    expect(info.provider).toBe('webgpu');
    expect(info.fallbackReason).toBeUndefined();
    expect(info.adapter).toMatch(/\S/);
  });

  it('names the adapter and, on SwiftShader (what prepareNode points Vulkan at here), warns it is software', () => {
    const info = backend.info();
    expect(info.adapterInfo).toBeDefined();
    if (process.env['VK_ICD_FILENAMES'] !== SWIFTSHADER_ICD) return; // a real GPU's driver was chosen
    expect(info.adapterInfo).toMatchObject({ architecture: 'swiftshader', software: true });
    expect(info.adapter).toMatch(/swiftshader.*, software$/i);
    expect(info.warning).toMatch(/^WebGPU runs on a software adapter .*far slower than the node backend/);
  });

  it('passes every golden case through the Backend contract', async () => {
    const files = goldenFiles();
    expect(files.length).toBeGreaterThanOrEqual(15);
    const results = [];
    for (const f of files) results.push(await runGoldenDocument(readGoldenDocument(f), f, backend));
    const failed = results.filter((r) => !r.passed).map((r) => `${r.name}: ${r.reason}`);
    expect(failed).toEqual([]);
    const worst = Math.max(...results.map((r) => r.maxAbsErr));
    console.log(`[webgpu/node] golden ${results.length} passed, worst max_abs_err ${worst.toExponential(2)}`);
  }, 600_000);

  it('matches the CPU reference on both tiny checkpoints x unreduced / pumer / aggressive', async () => {
    const cpu = createCpuBackend();
    const failures: string[] = [];
    for (const name of MODEL_CHECKPOINTS) {
      const loaded = loadVilt(checkpointDir(name));
      const inputs = batch(loaded, PARITY_BATCH);
      for (const s of SCHEDULES) {
        const want = await cpu.runVilt(loaded.model, inputs, s.config);
        const got = await backend.runVilt(loaded.model, inputs, s.config);
        const { maxAbs, reason } = compareOutputs(got, want, 1e-3);
        console.log(
          `[webgpu/node] ${name} ${s.name}  max|dlogit| ${maxAbs.toExponential(2)}  ${reason ?? 'PASS'}`,
        );
        if (reason) failures.push(`${name} ${s.name}: ${reason}`);
      }
    }
    expect(failures).toEqual([]);
    expect(backend.info().provider).toBe('webgpu');
  }, 900_000);

  it('reports where ORT placed the whole-model graphs, and which ops it kept off WebGPU', () => {
    const vilt = [...backend.placements()].filter(([label]) => label.startsWith('vilt|'));
    expect(vilt.length).toBe(6);
    for (const [label, p] of vilt) {
      expect(p.nodeCounts['WebGpuExecutionProvider'], label).toBeGreaterThan(0);
      const cpu = p.byProvider['CPUExecutionProvider'] ?? [];
      console.log(
        `[webgpu/node] ${label.split('|').pop()}: ${JSON.stringify(p.nodeCounts)} on CPU: [${cpu.join(', ')}]`,
      );
      // The heavy ops must be on the GPU.
      for (const op of ['MatMul', 'Softmax', 'LayerNormalization', 'Gemm', 'TopK', 'ScatterElements'])
        expect(cpu).not.toContain(op);
    }
    const offloaded = backend.info().offloadedOps;
    expect(Array.isArray(offloaded)).toBe(true);
    console.log(`[webgpu/node] offloadedOps: [${offloaded!.join(', ')}]`);
  });

  it.skipIf(!HEAD_CASES_PRESENT)(
    'every task head (NLVR2 padded pair, retrieval, VE) as the reference and the CPU reference give it',
    async () => {
      const failures: string[] = [];
      for (const c of headCases()) {
        const got = await backend.runVilt(c.loaded.model, c.inputs, c.reduction);
        const { maxAbs, reason } = await checkHeadCase(c, got, 1e-4);
        console.log(`[webgpu/node] ${c.label}  max|dlogit| ${maxAbs.toExponential(2)}  ${reason ?? 'PASS'}`);
        if (reason) failures.push(`${c.label}: ${reason}`);
      }
      expect(failures).toEqual([]);
      // Their graphs (two image passes, the rank head) stay on the GPU like the VQA ones.
      const ids = new Set(headCases().map((c) => c.loaded.model.id));
      const graphs = [...backend.placements()].filter(([label]) => ids.has(label.split('|')[1]!));
      expect(graphs.length).toBe(5);
      for (const [label, p] of graphs) {
        const cpu = p.byProvider['CPUExecutionProvider'] ?? [];
        for (const op of ['MatMul', 'Softmax', 'LayerNormalization', 'Gemm', 'Conv'])
          expect(cpu, label).not.toContain(op);
      }
    },
    900_000,
  );

  it('gives the same answers on its wasm provider; latency webgpu vs wasm measured', async () => {
    const wasm = await createWebGpuBackend({ provider: 'wasm' });
    try {
      expect(wasm.info()).toMatchObject({ name: 'webgpu', provider: 'wasm' });
      expect(wasm.info().fallbackReason).toBeUndefined();
      const loaded = loadVilt(checkpointDir('tiny-vilt-shapes-pumer'));
      const inputs = batch(loaded, 1);
      const config = SCHEDULES[1]!.config;
      const median = async (b: WebGpuBackend) => {
        await b.runVilt(loaded.model, inputs, config);
        const t: number[] = [];
        for (let i = 0; i < 3; i++) {
          const s = performance.now();
          await b.runVilt(loaded.model, inputs, config);
          t.push(performance.now() - s);
        }
        return t.sort((a, c) => a - c)[1]!;
      };
      const gpuMs = await median(backend);
      const wasmMs = await median(wasm);
      console.log(
        `[webgpu/node] tiny pumer batch 1: webgpu ${gpuMs.toFixed(1)} ms, wasm ${wasmMs.toFixed(1)} ms, ratio webgpu/wasm ${(gpuMs / wasmMs).toFixed(1)}`,
      );
      const a = await backend.runVilt(loaded.model, inputs, config);
      const b = await wasm.runVilt(loaded.model, inputs, config);
      expect(compareOutputs(a, b, 1e-3).reason).toBeNull();
    } finally {
      await wasm.dispose();
    }
  }, 300_000);
});

describeBackendContract('backend contract on webgpu in Node (Dawn)', () => backend);
