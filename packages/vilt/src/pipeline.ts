import {
  activeBackend,
  type Backend,
  type BackendInfo,
  type FloatTensor,
  floatTensor,
  getBackend,
  intTensor,
  PumerError,
  type ReductionConfig,
  type ResolvedSchedule,
  resolveBackend,
  resolveSchedule,
  type ScheduleChoice,
  type ViltOutputs,
} from '@pumer/core';
import { composeDetails, type VqaDetails } from './details.js';
import { decodeImageInput, type ImageInput } from './image.js';
import { ioHooks } from './io-registry.js';
import type { LoadedVilt } from './model.js';
import { padImages } from './pad-images.js';
import { prepareImage } from './preprocessor.js';

/**
 * The VQA pipeline: image + question in, ranked answers out, on any registered backend and with any
 * schedule. Images of different prepared sizes run as one batch padded to the largest with a pixel mask
 * (`padImages`), as Hugging Face's processor does; `batching: 'by-size'` runs one unpadded batch per size.
 * Backends come only from core's registry (docs/architecture.md, "Backends"); schedules only from core's
 * resolver (docs/schedules.md).
 */

export interface VqaPipelineOptions {
  /** A checkpoint directory (needs `@pumer/vilt/node`) or a model loaded with loadVilt / viltFromFiles. */
  readonly model: string | LoadedVilt;
  /**
   * A registered backend name ('node', 'webgpu', 'cpu' once their packages are imported; 'auto'), or a Backend:
   * kept for the pipeline's life. Absent: every call runs on core's active backend (`setBackend`), or on the
   * `auto` pick when none is active, so switching backends needs no new pipeline.
   */
  readonly backend?: string | Backend;
  /**
   * 'model' (default): the checkpoint's own schedule, no reduction if it has none; a name from core's
   * `scheduleNames()` (scaled to the model's depth); null or 'unreduced' for none; or a config.
   */
  readonly reduction?: ScheduleChoice;
}

export interface AnswerOptions {
  /** How many answers to return (default 5, at most the number of labels). */
  readonly topK?: number;
  /** Also return per-layer token counts and what happened to every patch. */
  readonly details?: boolean;
  /**
   * 'pad' (default): one batch, images padded to the largest height and width with a pixel mask; unreduced,
   * each answer equals the image's own (to float error). 'by-size': one batch per prepared size, no padding.
   * With a reducing schedule they differ: token counts follow the batch's largest image, so a padded smaller
   * image is not reduced as it would be alone (docs/reducers.md, "Padded images"); 'by-size' keeps every
   * image's reduction independent of the others of a different size, at the cost of more, smaller batches.
   */
  readonly batching?: 'pad' | 'by-size';
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
  /** Every output's logit, in the checkpoint's label order (`loaded.model.labels`). */
  readonly logits: Float32Array;
  /** The question had more tokens than the text window and was cut. */
  readonly truncated: boolean;
  readonly details?: VqaDetails;
}

export interface VqaItem {
  readonly image: ImageInput;
  readonly question: string;
}

/** Which backend runs the pipeline and why, what it reduces with, and which model. */
export interface VqaPipelineInfo {
  readonly backend: BackendInfo & { readonly reason: string };
  readonly schedule: ResolvedSchedule;
  /** The model's id (backends cache compiled graphs under it). */
  readonly model: string;
}

export interface VqaPipeline {
  readonly loaded: LoadedVilt;
  /** The backend the next call runs on (with no backend option: the active one, or the last one used). */
  readonly backend: Backend;
  readonly reduction: ReductionConfig | null;
  info(): VqaPipelineInfo;
  answer(image: ImageInput, question: string, options?: AnswerOptions): Promise<VqaResult>;
  answerBatch(items: readonly VqaItem[], options?: AnswerOptions): Promise<VqaResult[]>;
}

/** Lets `@pumer/vilt/node` teach the pipeline to load checkpoint directories. */
export function setCheckpointLoader(loader: ((dir: string) => LoadedVilt) | null): void {
  ioHooks().checkpointLoader = loader;
}

/** The parts of a LoadedVilt the pipeline reads, checked so a wrong `model` option is a PumerError. */
function isLoadedVilt(v: unknown): v is LoadedVilt {
  if (v === null || typeof v !== 'object') return false;
  const { model, config, tokenizer, preprocessor } = v as Record<string, unknown>;
  return (
    model !== null &&
    typeof model === 'object' &&
    config !== null &&
    typeof config === 'object' &&
    tokenizer !== null &&
    typeof tokenizer === 'object' &&
    preprocessor !== null &&
    typeof preprocessor === 'object'
  );
}

export function resolveModel(model: string | LoadedVilt): LoadedVilt {
  if (typeof model !== 'string') {
    if (isLoadedVilt(model)) return model;
    throw new PumerError(
      'VALUE',
      `model must be a checkpoint directory or a model from loadVilt / viltFromFiles, got ${model === null ? 'null' : typeof model}`,
    );
  }
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

/**
 * Labels ranked by logit, best first (ties: lower label index first). A NaN logit has no rank: it means the
 * model computed garbage (non-finite weights or an overflow), so the output is refused rather than ranked.
 * Infinite logits rank as the extremes they are.
 */
export function rankAnswers(logits: Float32Array, labels: readonly string[], topK: number): VqaAnswer[] {
  const nan = logits.findIndex((v) => Number.isNaN(v));
  if (nan >= 0) {
    const count = logits.reduce((n, v) => n + (Number.isNaN(v) ? 1 : 0), 0);
    throw new PumerError(
      'VALUE',
      `the model produced ${count} NaN logit${count === 1 ? '' : 's'} of ${logits.length} (the first for "${labels[nan]}"): its weights or inputs hold non-finite values`,
    );
  }
  const order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b);
  return order.slice(0, topK).map((i) => ({ label: labels[i], score: sigmoid(logits[i]), logit: logits[i] }));
}

/** Refuses a question with no words: the model would still answer it, confidently and meaninglessly. */
export function checkQuestion(question: unknown, source = 'question'): string {
  if (typeof question !== 'string')
    throw new PumerError(
      'VALUE',
      `${source} must be a string, got ${question === null ? 'null' : typeof question}`,
    );
  if (question.trim() === '')
    throw new PumerError('VALUE', `${source} is empty: ask something about the image`);
  return question;
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

interface Running {
  readonly backend: Backend;
  /** Why this backend runs, in one line. */
  readonly reason: string;
}

/** The reason a pipeline gives for a backend passed in its options. */
export const REQUESTED_BY_CALLER = 'requested by the caller';

/**
 * Where a pipeline's backend comes from. Given one: that one, resolved once through core's registry. None
 * given: core's active backend at every call (`resolveBackend()` makes the `auto` pick active when none is),
 * so `setBackend` moves existing pipelines too.
 */
async function backendSource(choice: string | Backend | undefined) {
  if (choice !== undefined) {
    const fixed: Running = { backend: await resolveBackend(choice), reason: REQUESTED_BY_CALLER };
    return { next: async () => fixed, current: () => fixed };
  }
  const active = (): Running | null => {
    const a = activeBackend();
    return a ? { backend: getBackend(), reason: a.reason } : null;
  };
  const follow = async (): Promise<Running> => {
    const backend = await resolveBackend();
    return active() ?? { backend, reason: 'the active backend' };
  };
  let last = await follow();
  return {
    next: async () => {
      last = await follow();
      return last;
    },
    // What the next call would run on; the last one used if the active backend was cleared since.
    current: () => active() ?? last,
  };
}

export async function createVqaPipeline(options: VqaPipelineOptions): Promise<VqaPipeline> {
  if (options === null || typeof options !== 'object')
    throw new PumerError('VALUE', 'createVqaPipeline takes an options object {model, backend?, reduction?}');
  const loaded = resolveModel(options.model);
  const schedule = resolveSchedule(options.reduction, {
    numLayers: loaded.config.geometry.numLayers,
    modelSchedule: loaded.reduction,
  });
  const reduction = schedule.config;
  const backends = await backendSource(options.backend);
  const labels = loaded.model.labels;
  const patch = loaded.config.geometry.patchSize;

  async function answerBatch(items: readonly VqaItem[], opts: AnswerOptions = {}): Promise<VqaResult[]> {
    if (!Array.isArray(items))
      throw new PumerError('VALUE', 'answerBatch takes an array of {image, question}');
    const topK = Math.max(1, Math.min(Math.floor(opts.topK ?? 5), labels.length));
    const one = items.length === 1;
    items.forEach((item, i) => {
      if (item === null || typeof item !== 'object')
        throw new PumerError('VALUE', `item ${i} must be an object {image, question}`);
      checkQuestion(item.question, one ? 'the question' : `the question of item ${i}`);
    });
    const prepared = items.map((item, i) => ({
      i,
      pixels: prepareImage(decodeImageInput(item.image), loaded.preprocessor, `image ${i}`),
      text: loaded.tokenizer.encode(item.question),
    }));
    const batching = opts.batching ?? 'pad';
    if (batching !== 'pad' && batching !== 'by-size')
      throw new PumerError('VALUE', `batching must be 'pad' or 'by-size', got ${String(batching)}`);
    const groups = new Map<string, typeof prepared>();
    for (const p of prepared) {
      const key = batching === 'pad' ? 'all' : p.pixels.shape.join('x');
      const g = groups.get(key);
      if (g) g.push(p);
      else groups.set(key, [p]);
    }
    const results: VqaResult[] = new Array(items.length);
    const { backend } = await backends.next();
    for (const group of groups.values()) {
      const w = loaded.tokenizer.window;
      const { pixelValues, pixelMask } = padImages(group.map((g) => g.pixels));
      const inputs = {
        inputIds: intTensor(
          group.flatMap((g) => g.text.inputIds),
          [group.length, w],
        ),
        attentionMask: intTensor(
          group.flatMap((g) => g.text.attentionMask),
          [group.length, w],
        ),
        pixelValues,
        pixelMask,
      };
      const out: ViltOutputs = await backend.runVilt(loaded.model, inputs, reduction);
      group.forEach((g, b) => {
        // This image's own patch grid: padding tokens after it are not patches of it.
        const grid = { rows: g.pixels.shape[1] / patch, cols: g.pixels.shape[2] / patch };
        const row = out.logits.data.subarray(b * labels.length, (b + 1) * labels.length);
        results[g.i] = {
          answers: rankAnswers(row, labels, topK),
          logits: row.slice(),
          truncated: g.text.truncated,
          ...(opts.details ? { details: composeDetails(out.layers, b, w, grid) } : {}),
        };
      });
    }
    return results;
  }

  return {
    loaded,
    get backend() {
      return backends.current().backend;
    },
    reduction,
    info() {
      const { backend, reason } = backends.current();
      return { backend: { ...backend.info(), reason }, schedule, model: loaded.model.id };
    },
    answerBatch,
    async answer(image, question, opts) {
      const [r] = await answerBatch([{ image, question }], opts);
      return r;
    },
  };
}
