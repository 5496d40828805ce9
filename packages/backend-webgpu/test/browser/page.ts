/**
 * The page side of the Chromium tests: the real backend (ESM bundle) running the backend contract suite,
 * golden cases and whole-model runs on WebGPU inside the browser. The test process drives it through `window.pumerTest`.
 */
import type { ReductionConfig } from '@pumer/core';
import { type ContractResult, runBackendContract, runGoldenDocument } from '@pumer/testkit';
import { type LoadedVilt, viltFromFiles } from '@pumer/vilt';
import { createWebGpuBackend, type WebGpuBackend, type WebGpuBackendInfo } from '../../src/index.js';
import type { CheckpointUrls } from '../head-cases.js';
import { inputsFromWire, outputsToWire, type WireInputs, type WireOutputs } from './wire.js';

const backends = new Map<string, WebGpuBackend>();
const models = new Map<string, Promise<LoadedVilt>>();

async function backend(provider: 'webgpu' | 'wasm'): Promise<WebGpuBackend> {
  let b = backends.get(provider);
  if (!b) {
    b = await createWebGpuBackend({ provider, wasmPaths: '/ort/' });
    backends.set(provider, b);
  }
  return b;
}

async function fetchOk(url: string): Promise<Response> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return res;
}

function model(name: string): Promise<LoadedVilt> {
  let m = models.get(name);
  if (!m) {
    m = (async () => {
      const base = `/models/${name}/`;
      const [config, weights, tokenizer, preprocessor] = await Promise.all([
        fetchOk(`${base}config.json`).then((r) => r.json()),
        fetchOk(`${base}model.safetensors`).then((r) => r.arrayBuffer()),
        fetchOk(`${base}tokenizer.json`).then((r) => r.json()),
        fetchOk(`${base}preprocessor_config.json`).then((r) => r.json()),
      ]);
      return viltFromFiles({
        config,
        weights: new Uint8Array(weights),
        tokenizer,
        preprocessor,
        id: `page:${name}`,
      });
    })();
    models.set(name, m);
  }
  return m;
}

/** A checkpoint fetched file by file (any layout viltFromFiles reads), cached by its id. */
function checkpoint(urls: CheckpointUrls): Promise<LoadedVilt> {
  let m = models.get(urls.id);
  if (!m) {
    m = (async () => {
      const [config, weights, tokenizer, preprocessor] = await Promise.all([
        fetchOk(urls.config).then((r) => r.json()),
        fetchOk(urls.weights).then((r) => r.arrayBuffer()),
        fetchOk(urls.tokenizer).then((r) => r.json()),
        urls.preprocessor ? fetchOk(urls.preprocessor).then((r) => r.json()) : undefined,
      ]);
      return viltFromFiles({
        config,
        weights: new Uint8Array(weights),
        tokenizer,
        ...(preprocessor ? { preprocessor } : {}),
        id: urls.id,
      });
    })();
    models.set(urls.id, m);
  }
  return m;
}

export interface PageApi {
  init(provider: 'webgpu' | 'wasm'): Promise<WebGpuBackendInfo>;
  info(provider: 'webgpu' | 'wasm'): Promise<WebGpuBackendInfo>;
  /** The backend contract suite (@pumer/testkit) on the webgpu provider. */
  contract(): Promise<ContractResult[]>;
  golden(files: string[]): Promise<{ name: string; passed: boolean; maxAbsErr: number; reason?: string }[]>;
  runVilt(
    provider: 'webgpu' | 'wasm',
    name: string,
    inputs: WireInputs,
    config: ReductionConfig | null,
  ): Promise<WireOutputs>;
  /** runVilt on a checkpoint given by the URLs of its files (the task-head cases). */
  runCheckpoint(
    urls: CheckpointUrls,
    inputs: WireInputs,
    config: ReductionConfig | null,
  ): Promise<WireOutputs>;
  /** Median milliseconds of `repeats` runVilt calls after one warm-up. */
  time(
    provider: 'webgpu' | 'wasm',
    name: string,
    inputs: WireInputs,
    config: ReductionConfig | null,
    repeats: number,
  ): Promise<number>;
}

const api: PageApi = {
  async init(provider) {
    return (await backend(provider)).info();
  },
  async info(provider) {
    return (await backend(provider)).info();
  },
  async contract() {
    return runBackendContract(await backend('webgpu'));
  },
  async golden(files) {
    const b = await backend('webgpu');
    const results = [];
    for (const f of files) {
      const doc = await fetchOk(`/golden/${f}`).then((r) => r.json());
      const r = await runGoldenDocument(doc, f, b);
      results.push({
        name: r.name,
        passed: r.passed,
        maxAbsErr: r.maxAbsErr,
        ...(r.reason ? { reason: r.reason } : {}),
      });
    }
    return results;
  },
  async runVilt(provider, name, inputs, config) {
    const b = await backend(provider);
    return outputsToWire(await b.runVilt((await model(name)).model, inputsFromWire(inputs), config));
  },
  async runCheckpoint(urls, inputs, config) {
    const b = await backend('webgpu');
    return outputsToWire(await b.runVilt((await checkpoint(urls)).model, inputsFromWire(inputs), config));
  },
  async time(provider, name, inputs, config, repeats) {
    const b = await backend(provider);
    const m = (await model(name)).model;
    const batch = inputsFromWire(inputs);
    await b.runVilt(m, batch, config);
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t = performance.now();
      await b.runVilt(m, batch, config);
      times.push(performance.now() - t);
    }
    times.sort((a, c) => a - c);
    return times[Math.floor(times.length / 2)]!;
  },
};

(globalThis as unknown as { pumerTest: PageApi }).pumerTest = api;
document.title = 'pumer-webgpu-test ready';
