import { createCpuBackend } from '@pumer/backend-cpu';
import { createWebGpuBackend } from '@pumer/backend-webgpu';
import type { Backend, BackendInfo } from '@pumer/core';
import {
  createVqaPipeline,
  type DecodedImage,
  type LoadedVilt,
  type VqaPipeline,
  type VqaResult,
  viltFromFiles,
} from '@pumer/vilt';

/**
 * The demo's model and backends, created once and kept: switching backend or schedule reuses what is
 * already loaded (no page reload, no second download).
 */

export type BackendChoice = 'webgpu' | 'wasm' | 'cpu';
export type ScheduleChoice = 'model' | 'aggressive' | 'none';

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

const backends = new Map<BackendChoice, Promise<Backend>>();

function backend(choice: BackendChoice): Promise<Backend> {
  let b = backends.get(choice);
  if (!b) {
    // onnxruntime-web finds its .wasm itself: Vite emitted it as an asset next to the ORT chunk.
    b = choice === 'cpu' ? Promise.resolve(createCpuBackend()) : createWebGpuBackend({ provider: choice });
    b.catch(() => backends.delete(choice));
    backends.set(choice, b);
  }
  return b;
}

const pipelines = new Map<string, Promise<VqaPipeline>>();

function pipeline(model: LoadedVilt, choice: BackendChoice, schedule: ScheduleChoice): Promise<VqaPipeline> {
  const key = `${choice}|${schedule}`;
  let p = pipelines.get(key);
  if (!p) {
    p = backend(choice).then((b) => createVqaPipeline({ model, backend: b, reduction: schedule }));
    p.catch(() => pipelines.delete(key));
    pipelines.set(key, p);
  }
  return p;
}

export interface DemoRun {
  readonly result: VqaResult;
  readonly ms: number;
  readonly info: BackendInfo;
  /** The first run of this backend + schedule: its time includes building and compiling the graph. */
  readonly firstRun: boolean;
}

const ran = new Set<string>();

export async function ask(
  model: LoadedVilt,
  image: DecodedImage,
  question: string,
  choice: BackendChoice,
  schedule: ScheduleChoice,
): Promise<DemoRun> {
  const p = await pipeline(model, choice, schedule);
  const key = `${choice}|${schedule}`;
  const start = performance.now();
  const result = await p.answer(image, question, { topK: 5, details: true });
  const ms = performance.now() - start;
  const firstRun = !ran.has(key);
  ran.add(key);
  return { result, ms, info: p.backend.info(), firstRun };
}
