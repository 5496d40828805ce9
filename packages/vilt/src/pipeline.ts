import { createCpuBackend } from '@pumer/backend-cpu';
import {
  type Backend,
  BackendError,
  type FloatTensor,
  floatTensor,
  findBackend,
  listBackends,
  registerBackend,
  intTensor,
  PumerError,
  type ReductionConfig,
  type ViltOutputs,
} from '@pumer/core';
import { composeDetails, type VqaDetails } from './details.js';
import { decodeImageInput, type ImageInput } from './image.js';
import { ioHooks } from './io-registry.js';
import type { LoadedVilt } from './model.js';
import { prepareImage } from './preprocessor.js';
import { resolveSchedule, type ScheduleChoice } from './schedules.js';

/**
 * The VQA pipeline: image + question in, ranked answers out, on any registered backend and with any
 * schedule. Batches group images by prepared size (the backends take one pixel shape per batch).
 */

export interface VqaPipelineOptions {
  /** A checkpoint directory (needs `@pumer/vilt/node`) or a model loaded with loadVilt / viltFromFiles. */
  readonly model: string | LoadedVilt;
  /** A registered backend name ('cpu' by default; 'node', 'webgpu' once their packages are imported) or a Backend. */
  readonly backend?: string | Backend;
  /** 'model' (default): the checkpoint's own schedule, none if it has none; 'none'; a named schedule; or a config. */
  readonly reduction?: ScheduleChoice;
}

export interface AnswerOptions {
  /** How many answers to return (default 5, at most the number of labels). */
  readonly topK?: number;
  /** Also return per-layer token counts and what happened to every patch. */
  readonly details?: boolean;
}

export interface VqaAnswer {
  readonly label: string;
  /** sigmoid(logit): ViLT's VQA head is trained with per-answer binary cross-entropy. */
  readonly score: number;
  readonly logit: number;
}

export interface VqaResult {
  /** Best first. */
  readonly answers: readonly VqaAnswer[];
  /** The question had more tokens than the text window and was cut. */
  readonly truncated: boolean;
  readonly details?: VqaDetails;
}

export interface VqaItem {
  readonly image: ImageInput;
  readonly question: string;
}

export interface VqaPipeline {
  readonly loaded: LoadedVilt;
  readonly backend: Backend;
  readonly reduction: ReductionConfig | null;
  answer(image: ImageInput, question: string, options?: AnswerOptions): Promise<VqaResult>;
  answerBatch(items: readonly VqaItem[], options?: AnswerOptions): Promise<VqaResult[]>;
}

/** Lets `@pumer/vilt/node` teach the pipeline to load checkpoint directories. */
export function setCheckpointLoader(loader: ((dir: string) => LoadedVilt) | null): void {
  ioHooks().checkpointLoader = loader;
}

export async function resolveBackend(choice: string | Backend = 'cpu'): Promise<Backend> {
  if (typeof choice === 'string') {
    // The default must work even where a bundler dropped @pumer/backend-cpu's import-time registration
    // (its package is marked side-effect free): register it here if it is missing.
    if (choice === 'cpu' && !listBackends().some((b) => b.name === 'cpu'))
      registerBackend('cpu', createCpuBackend, 1);
    return findBackend(choice);
  }
  if (choice && typeof choice === 'object' && typeof choice.runVilt === 'function') return choice;
  throw new BackendError('backend must be a registered backend name or a Backend object');
}

export function resolveModel(model: string | LoadedVilt): LoadedVilt {
  if (typeof model !== 'string') return model;
  const checkpointLoader = ioHooks().checkpointLoader;
  if (!checkpointLoader) {
    throw new PumerError(
      'CHECKPOINT',
      `cannot load "${model}" here: import '@pumer/vilt/node' (Node), or pass a model from viltFromFiles`,
    );
  }
  return checkpointLoader(model);
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Labels ranked by logit, best first (ties: lower label index first). */
export function rankAnswers(logits: Float32Array, labels: readonly string[], topK: number): VqaAnswer[] {
  const order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b);
  return order.slice(0, topK).map((i) => ({ label: labels[i], score: sigmoid(logits[i]), logit: logits[i] }));
}

/** Stacks [C, H, W] images of one shape into [B, C, H, W]. */
export function stackImages(images: readonly FloatTensor[]): FloatTensor {
  const shape = images[0].shape;
  const per = images[0].data.length;
  const out = new Float32Array(images.length * per);
  images.forEach((img, i) => {
    if (img.shape.join() !== shape.join())
      throw new PumerError('IMAGE', 'stackImages: every image of a batch must share one shape');
    out.set(img.data, i * per);
  });
  return floatTensor(out, [images.length, ...shape]);
}

export async function createVqaPipeline(options: VqaPipelineOptions): Promise<VqaPipeline> {
  const loaded = resolveModel(options.model);
  const backend = await resolveBackend(options.backend ?? 'cpu');
  const reduction = resolveSchedule(
    options.reduction ?? 'model',
    loaded.reduction,
    loaded.config.geometry.numLayers,
  );
  const labels = loaded.model.labels;
  const patch = loaded.config.geometry.patchSize;

  async function answerBatch(items: readonly VqaItem[], opts: AnswerOptions = {}): Promise<VqaResult[]> {
    if (!Array.isArray(items))
      throw new PumerError('VALUE', 'answerBatch takes an array of {image, question}');
    const topK = Math.max(1, Math.min(Math.floor(opts.topK ?? 5), labels.length));
    const prepared = items.map((item, i) => ({
      i,
      pixels: prepareImage(decodeImageInput(item.image), loaded.preprocessor, `image ${i}`),
      text: loaded.tokenizer.encode(item.question),
    }));
    const groups = new Map<string, typeof prepared>();
    for (const p of prepared) {
      const key = p.pixels.shape.join('x');
      const g = groups.get(key);
      if (g) g.push(p);
      else groups.set(key, [p]);
    }
    const results: VqaResult[] = new Array(items.length);
    for (const group of groups.values()) {
      const w = loaded.tokenizer.window;
      const inputs = {
        inputIds: intTensor(
          group.flatMap((g) => g.text.inputIds),
          [group.length, w],
        ),
        attentionMask: intTensor(
          group.flatMap((g) => g.text.attentionMask),
          [group.length, w],
        ),
        pixelValues: stackImages(group.map((g) => g.pixels)),
      };
      const out: ViltOutputs = await backend.runVilt(loaded.model, inputs, reduction);
      const [, , h, wPix] = inputs.pixelValues.shape as [number, number, number, number];
      const grid = { rows: h / patch, cols: wPix / patch };
      group.forEach((g, b) => {
        const row = out.logits.data.subarray(b * labels.length, (b + 1) * labels.length);
        results[g.i] = {
          answers: rankAnswers(row, labels, topK),
          truncated: g.text.truncated,
          ...(opts.details ? { details: composeDetails(out.layers, b, w, grid) } : {}),
        };
      });
    }
    return results;
  }

  return {
    loaded,
    backend,
    reduction,
    answerBatch,
    async answer(image, question, opts) {
      const [r] = await answerBatch([{ image, question }], opts);
      return r;
    },
  };
}
