import { createCpuBackend } from '@pumer/backend-cpu';
import { createWebGpuBackend } from '@pumer/backend-webgpu';
import { findBackend, registerBackend, setBackend } from '@pumer/core';
import {
  createVqaPipeline,
  type DecodedImage,
  type LoadedVilt,
  type VqaPipeline,
  type VqaResult,
  viltFromFiles,
} from '@pumer/vilt';
import { type DemoBackendInfo, webGpuUnavailableReason } from './backend-label.js';
import { type FolderFile, readCheckpointFolder } from './checkpoint-folder.js';
import { demoSchedule } from './schedules.js';

/**
 * The demo's model and backends, created once and kept: switching backend or schedule reuses what is
 * already loaded (no page reload, no second download). Backends live in core's registry; a switch is
 * `setBackend`, and the pipelines (one per schedule) follow it.
 */

export type BackendChoice = 'webgpu' | 'wasm' | 'cpu';

// The demo's menu, registered under its own names: WebGPU strictly (so what the menu says is what runs; the
// fall back happens once, at start, and is shown), onnxruntime-web on wasm, and the TypeScript reference.
// onnxruntime-web finds its .wasm itself: Vite emitted it as an asset next to the ORT chunk.
registerBackend('webgpu', () => createWebGpuBackend({ provider: 'webgpu' }), 3);
registerBackend('wasm', () => createWebGpuBackend({ provider: 'wasm' }), 2);
registerBackend('cpu', createCpuBackend, 1);

export interface StartBackend {
  /** The backend the page starts on. */
  readonly choice: BackendChoice;
  /** Why WebGPU is not available, in one line; absent when it is. */
  readonly webGpuUnavailable?: string;
}

/**
 * The best backend this browser has: WebGPU when it gives an adapter and a device, else wasm with the reason.
 * Initialising WebGPU here also means the first answer does not pay for it.
 */
export async function startBackend(): Promise<StartBackend> {
  try {
    await findBackend('webgpu');
    return { choice: 'webgpu' };
  } catch (err) {
    return { choice: 'wasm', webGpuUnavailable: webGpuUnavailableReason(err) };
  }
}

/** Files the build ships next to index.html (see vite.config.ts). */
const here = (path: string) => new URL(path, document.baseURI).href;

async function fetchOk(path: string): Promise<Response> {
  const res = await fetch(here(path));
  if (!res.ok) throw new Error(`could not load ${path} (HTTP ${res.status})`);
  return res;
}

export async function loadModel(): Promise<LoadedVilt> {
  const [config, weights, tokenizer, preprocessor] = await Promise.all([
    fetchOk('model/config.json').then((r) => r.json()),
    fetchOk('model/model.safetensors').then((r) => r.arrayBuffer()),
    fetchOk('model/tokenizer.json').then((r) => r.json()),
    fetchOk('model/preprocessor_config.json').then((r) => r.json()),
  ]);
  return viltFromFiles({
    config,
    weights: new Uint8Array(weights),
    tokenizer,
    preprocessor,
    id: 'web-demo:tiny-vilt-shapes-pumer',
  });
}

/** A checkpoint folder the user opened (either layout, any weights format viltFromFiles reads). */
export async function loadModelFromFolder(files: readonly FolderFile[]): Promise<LoadedVilt> {
  return viltFromFiles(await readCheckpointFolder(files));
}

export interface BundledImage {
  readonly image: string;
  readonly question: string;
  readonly answer: string;
}

export async function loadBundledImages(): Promise<BundledImage[]> {
  return (await fetchOk('images/questions.json').then((r) => r.json())) as BundledImage[];
}

export function imageUrl(name: string): string {
  return here(`images/${name}`);
}

const pipelines = new Map<string, Promise<VqaPipeline>>();

/** One pipeline per model and schedule, created without a backend: each call runs on the active one. */
function pipeline(model: LoadedVilt, schedule: string): Promise<VqaPipeline> {
  const key = `${model.model.id}|${schedule}`;
  let p = pipelines.get(key);
  if (!p) {
    const { config } = demoSchedule(schedule, model.config.geometry.numLayers, model.reduction);
    p = createVqaPipeline({ model, reduction: config });
    p.catch(() => pipelines.delete(key));
    pipelines.set(key, p);
  }
  return p;
}

export interface DemoRun {
  readonly result: VqaResult;
  readonly ms: number;
  readonly info: DemoBackendInfo;
  /** The first run of this backend + schedule: its time includes building and compiling the graph. */
  readonly firstRun: boolean;
}

const ran = new Set<string>();

export async function ask(
  model: LoadedVilt,
  image: DecodedImage,
  question: string,
  choice: BackendChoice,
  schedule: string,
): Promise<DemoRun> {
  await setBackend(choice);
  const p = await pipeline(model, schedule);
  const key = `${model.model.id}|${choice}|${schedule}`;
  const start = performance.now();
  const result = await p.answer(image, question, { topK: 5, details: true });
  const ms = performance.now() - start;
  const firstRun = !ran.has(key);
  ran.add(key);
  return { result, ms, info: p.info().backend, firstRun };
}
