import { createCpuBackend } from '@pumer/backend-cpu';
import { createWebGpuBackend } from '@pumer/backend-webgpu';
import { findBackend, registerBackend, setBackend } from '@pumer/core';
import {
  createMeterPipeline,
  type LoadedMeter,
  type MeterNlvr2Result,
  type MeterScoreResult,
  type MeterTaskPipelines,
  type MeterVqaResult,
} from '@pumer/meter';
import {
  createPipeline,
  type DecodedImage,
  type LoadedVilt,
  type Nlvr2Result,
  type RankResult,
  type ScoreResult,
  type TaskPipelines,
  type VqaResult,
  viltFromFiles,
} from '@pumer/vilt';
import { type DemoBackendInfo, webGpuUnavailableReason } from './backend-label.js';
import { type FolderFile, readCheckpointFolder } from './checkpoint-folder.js';
import { isMeterFolder, loadMeterFolder } from './meter-folder.js';
import { demoSchedule } from './schedules.js';

/**
 * The demo's models and backends, created once and kept: switching task, backend or schedule reuses what is
 * already loaded (no page reload, no second download). Backends live in core's registry; a switch is
 * `setBackend`, and the pipelines (one per model and schedule) follow it.
 */

export type BackendChoice = 'webgpu' | 'wasm' | 'cpu';

/** The tasks the demo shows (visual entailment has no bundled model or view). */
export type DemoTask = 'vqa' | 'nlvr2' | 'retrieval';
export const DEMO_TASKS: readonly DemoTask[] = ['vqa', 'nlvr2', 'retrieval'];

/** A model the demo runs: ViLT (the embedded ones, a folder) or METER (a folder). */
export type DemoModel = LoadedVilt | LoadedMeter;

export function isMeter(m: DemoModel): m is LoadedMeter {
  return 'kind' in m.model && m.model.kind === 'meter';
}

/** What the schedule menu and the page need of a model of either family. */
export function modelShape(m: DemoModel): {
  readonly family: 'vilt' | 'meter';
  /** ViLT's layers, METER's co-attention steps: what schedules index. */
  readonly depth: number;
  readonly imageSize: number;
  readonly patchSize: number;
  readonly textTokens: number;
} {
  if (isMeter(m)) {
    const g = m.model.geometry;
    return {
      family: 'meter',
      depth: g.numSteps,
      imageSize: g.image.imageSize,
      patchSize: g.image.patchSize,
      textTokens: g.maxTextLength,
    };
  }
  const g = m.config.geometry;
  return {
    family: 'vilt',
    depth: g.numLayers,
    imageSize: g.imageSize,
    patchSize: g.patchSize,
    textTokens: g.maxTextLength,
  };
}

/** The task of a checkpoint's head, if the demo shows it. */
export function demoTask(loaded: DemoModel): DemoTask | null {
  const task = loaded.model.task ?? 'vqa';
  return (DEMO_TASKS as readonly string[]).includes(task) ? (task as DemoTask) : null;
}

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

/** Each task's embedded checkpoint: the URL folder the build ships it in, and its name. */
const EMBEDDED_MODELS: Readonly<Record<DemoTask, { folder: string; name: string }>> = {
  vqa: { folder: 'model', name: 'tiny-vilt-shapes-pumer' },
  nlvr2: { folder: 'nlvr2-model', name: 'tiny-vilt-shapes-nlvr2-pumer' },
  retrieval: { folder: 'retrieval-model', name: 'tiny-vilt-shapes-retrieval-pumer' },
};

/** The embedded tiny checkpoint of `task`, fine-tuned with PuMer. */
export async function loadModel(task: DemoTask = 'vqa'): Promise<LoadedVilt> {
  const { folder, name } = EMBEDDED_MODELS[task];
  const [config, weights, tokenizer, preprocessor] = await Promise.all([
    fetchOk(`${folder}/config.json`).then((r) => r.json()),
    fetchOk(`${folder}/model.safetensors`).then((r) => r.arrayBuffer()),
    fetchOk(`${folder}/tokenizer.json`).then((r) => r.json()),
    fetchOk(`${folder}/preprocessor_config.json`).then((r) => r.json()),
  ]);
  return viltFromFiles({
    config,
    weights: new Uint8Array(weights),
    tokenizer,
    preprocessor,
    id: `web-demo:${name}`,
  });
}

/**
 * A checkpoint folder the user opened: METER when its config.json says so (meter-folder.ts), else ViLT (either
 * layout, any weights format viltFromFiles reads).
 */
export async function loadModelFromFolder(files: readonly FolderFile[]): Promise<DemoModel> {
  if (await isMeterFolder(files)) return loadMeterFolder(files);
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

/** A bundled NLVR2 example of the eval set: two images, a statement and whether it is true of them. */
export interface BundledPair {
  readonly left: string;
  readonly right: string;
  readonly statement: string;
  readonly label: boolean;
}

export async function loadBundledPairs(): Promise<BundledPair[]> {
  return (await fetchOk('nlvr2-pairs/pairs.json').then((r) => r.json())) as BundledPair[];
}

export function pairImageUrl(name: string): string {
  return here(`nlvr2-pairs/${name}`);
}

/** An image of the bundled retrieval gallery with the eval set's caption of it. */
export interface GalleryImage {
  readonly image: string;
  readonly caption: string;
}

export async function loadGallery(): Promise<GalleryImage[]> {
  return (await fetchOk('retrieval-gallery/gallery.json').then((r) => r.json())) as GalleryImage[];
}

export function galleryImageUrl(name: string): string {
  return here(`retrieval-gallery/${name}`);
}

/** A pipeline of either family: what `timed` reads of it. */
interface AnyPipeline {
  info(): { backend: DemoBackendInfo };
}

const pipelines = new Map<string, Promise<AnyPipeline>>();

/**
 * One pipeline per model and schedule, created without a backend: each call runs on the active one.
 * `task` is the model's own (demoTask), so createPipeline does not refuse it. METER's schedules index its
 * co-attention steps (docs/schedules.md, "Model families").
 */
function pipeline<T extends DemoTask>(
  task: T,
  model: DemoModel,
  schedule: string,
): Promise<TaskPipelines[T] | MeterTaskPipelines[T]> {
  const key = `${model.model.id}|${schedule}`;
  let p = pipelines.get(key);
  if (!p) {
    const shape = modelShape(model);
    const { config } = demoSchedule(schedule, shape.depth, model.reduction, shape.family);
    p = isMeter(model)
      ? createMeterPipeline(model, { task, reduction: config })
      : createPipeline(task, { model, reduction: config });
    p.catch(() => pipelines.delete(key));
    pipelines.set(key, p);
  }
  return p as Promise<TaskPipelines[T] | MeterTaskPipelines[T]>;
}

export interface DemoRun<R = VqaResult> {
  readonly result: R;
  readonly ms: number;
  readonly info: DemoBackendInfo;
  /** The first run of this model + backend + schedule: its time includes building and compiling the graph. */
  readonly firstRun: boolean;
}

const ran = new Set<string>();

/** Runs `call` on the `choice` backend with `task`'s pipeline for `model` and `schedule`, and times it. */
async function timed<T extends DemoTask, R>(
  task: T,
  model: DemoModel,
  choice: BackendChoice,
  schedule: string,
  call: (p: TaskPipelines[T] | MeterTaskPipelines[T]) => Promise<R>,
): Promise<DemoRun<R>> {
  await setBackend(choice);
  const p = await pipeline(task, model, schedule);
  const key = `${model.model.id}|${choice}|${schedule}`;
  const start = performance.now();
  const result = await call(p);
  const ms = performance.now() - start;
  const firstRun = !ran.has(key);
  ran.add(key);
  return { result, ms, info: p.info().backend, firstRun };
}

export function ask(
  model: DemoModel,
  image: DecodedImage,
  question: string,
  choice: BackendChoice,
  schedule: string,
): Promise<DemoRun<VqaResult | MeterVqaResult>> {
  return timed(
    'vqa',
    model,
    choice,
    schedule,
    async (p): Promise<VqaResult | MeterVqaResult> => p.answer(image, question, { topK: 5, details: true }),
  );
}

/** NLVR2: is `statement` true of the pair (left, right)? With each image pass's details. */
export function judge(
  model: DemoModel,
  pair: readonly [DecodedImage, DecodedImage],
  statement: string,
  choice: BackendChoice,
  schedule: string,
): Promise<DemoRun<Nlvr2Result | MeterNlvr2Result>> {
  return timed(
    'nlvr2',
    model,
    choice,
    schedule,
    async (p): Promise<Nlvr2Result | MeterNlvr2Result> =>
      p.predict([pair[0], pair[1]], statement, { details: true }),
  );
}

export interface GalleryRanking {
  /** The caption's score against every gallery image (index order). */
  readonly ranking: RankResult;
  /** The best image's pass, with its per-layer (METER: per-step) details. */
  readonly best: ScoreResult | MeterScoreResult;
}

/**
 * Retrieval: scores `caption` against every gallery image in one batched call (rank), then runs the best
 * pair once more with details, for its overlays and per-layer token counts.
 */
export function rankGallery(
  model: DemoModel,
  images: readonly DecodedImage[],
  caption: string,
  choice: BackendChoice,
  schedule: string,
): Promise<DemoRun<GalleryRanking>> {
  return timed('retrieval', model, choice, schedule, async (p) => {
    const ranking = await p.rank({ texts: [caption], images, topK: images.length });
    const best = await p.score(caption, images[ranking.textToImage[0]![0]!.index]!, { details: true });
    return { ranking, best };
  });
}
