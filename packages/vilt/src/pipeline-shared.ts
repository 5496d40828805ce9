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
  type ViltInputs,
  type ViltOutputs,
  type ViltTask,
} from '@pumer/core';
import { composeDetails, type VqaDetails } from './details.js';
import { decodeImageInput, type ImageInput } from './image.js';
import { ioHooks } from './io-registry.js';
import type { LoadedVilt } from './model.js';
import { padImages } from './pad-images.js';
import { prepareImage } from './preprocessor.js';
import { type PipelineStartup, pipelineStartup } from './startup.js';
import type { EncodedQuestion } from './tokenizer.js';

/**
 * What every task pipeline (VQA, VE, NLVR2, retrieval) shares: the model, the backend (only from core's
 * registry: docs/architecture.md, "Backends"), the schedule (only from core's resolver: docs/schedules.md),
 * and how prepared examples become padded batches for `backend.runVilt`.
 */

export interface PipelineOptions {
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

/**
 * 'pad': one batch, images padded to the largest height and width with a pixel mask; unreduced, each result
 * equals the image's own (to float error). 'by-size': one batch per prepared size, no padding. With a reducing
 * schedule they differ: token counts follow the batch's largest image, so a padded smaller image is not reduced
 * as it would be alone (docs/reducers.md, "Padded images").
 */
export type Batching = 'pad' | 'by-size';

/** Which backend runs the pipeline and why, what it reduces with, and which model. */
export interface PipelineInfo {
  readonly backend: BackendInfo & { readonly reason: string };
  readonly schedule: ResolvedSchedule;
  /** The model's id (backends cache compiled graphs under it). */
  readonly model: string;
  /** The task of the checkpoint's head. */
  readonly task: ViltTask;
  /**
   * What the first answer waited for: reading the checkpoint, and each graph's build, session and first run
   * (every ViLT pipeline reports it).
   */
  readonly startup?: PipelineStartup;
}

/** What every task pipeline exposes besides its own calls, over a model family's loaded model (METER's too). */
export interface PipelineBaseOf<Loaded> {
  readonly task: ViltTask;
  readonly loaded: Loaded;
  /** The backend the next call runs on (with no backend option: the active one, or the last one used). */
  readonly backend: Backend;
  readonly reduction: ReductionConfig | null;
  info(): PipelineInfo;
}

/** What every task pipeline exposes besides its own calls. */
export interface PipelineBase extends PipelineBaseOf<LoadedVilt> {}

/**
 * The part every task pipeline shares, from its runner: `backend` is read at each access, so a pipeline created
 * without a backend option reports the one its next call runs on.
 */
export function pipelineBase<Loaded>(runner: PipelineBaseOf<Loaded>): PipelineBaseOf<Loaded> {
  return {
    task: runner.task,
    loaded: runner.loaded,
    get backend() {
      return runner.backend;
    },
    reduction: runner.reduction,
    info: () => runner.info(),
  };
}

/** Lets `@pumer/vilt/node` teach the pipelines to load checkpoint directories. */
export function setCheckpointLoader(loader: ((dir: string) => LoadedVilt) | null): void {
  ioHooks().checkpointLoader = loader;
}

/** The parts of a LoadedVilt the pipelines read, checked so a wrong `model` option is a PumerError. */
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

/** Refuses a text with no words: the model would still answer it, confidently and meaninglessly. */
export function checkQuestion(
  question: unknown,
  source = 'question',
  what = 'ask something about the image',
): string {
  if (typeof question !== 'string')
    throw new PumerError(
      'VALUE',
      `${source} must be a string, got ${question === null ? 'null' : typeof question}`,
    );
  if (question.trim() === '') throw new PumerError('VALUE', `${source} is empty: ${what}`);
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

export interface Running {
  readonly backend: Backend;
  /** Why this backend runs, in one line. */
  readonly reason: string;
}

/** A pipeline's backend: `next()` for the call about to run, `current()` for what info() reports. */
export interface BackendSource {
  next(): Promise<Running>;
  current(): Running;
}

/** The reason a pipeline gives for a backend passed in its options. */
export const REQUESTED_BY_CALLER = 'requested by the caller';

/**
 * Where a pipeline's backend comes from. Given one: that one, resolved once through core's registry. None
 * given: core's active backend at every call (`resolveBackend()` makes the `auto` pick active when none is),
 * so `setBackend` moves existing pipelines too.
 */
export async function backendSource(choice: string | Backend | undefined): Promise<BackendSource> {
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

/** One example ready for the model: its encoded text and its prepared [C, H, W] image(s), one per model image. */
export interface PreparedExample {
  readonly text: EncodedQuestion;
  readonly images: readonly FloatTensor[];
}

/** A pipeline's model, schedule and backend, and the one way its examples run. */
export interface TaskRunner extends Omit<PipelineBase, 'task'> {
  readonly task: ViltTask;
  /** Decodes and prepares an image with the checkpoint's transform; `source` names it in errors. */
  prepare(image: ImageInput, source: string): FloatTensor;
  /**
   * Runs examples in batches: grouped by `batching` ('by-size': the same prepared size of every image), each
   * group cut into batches of at most `batchSize` examples (default: the whole group). `onBatch` gets each
   * batch's examples (with their index in `examples`) and the backend's outputs.
   */
  run<T extends PreparedExample>(
    examples: readonly T[],
    onBatch: (batch: readonly { readonly index: number; readonly example: T }[], out: ViltOutputs) => void,
    options?: { readonly batching?: Batching; readonly batchSize?: number },
  ): Promise<void>;
  /** Per-layer details of example `b` of a batch, one entry per image pass (VQA, VE, retrieval: one). */
  details(out: ViltOutputs, b: number, example: PreparedExample): VqaDetails[];
}

/** How errors name each task (also METER's pipelines'), e.g. when a checkpoint reaches the wrong one. */
export const TASK_NAMES: Readonly<Record<ViltTask, string>> = {
  vqa: 'VQA',
  ve: 'visual entailment',
  nlvr2: 'NLVR2',
  retrieval: 'retrieval',
};

/** The pipeline constructor of each task, for the error when a checkpoint reaches the wrong one. */
const TASK_CONSTRUCTORS: Readonly<Record<ViltTask, string>> = {
  vqa: 'createVqaPipeline',
  ve: 'createVePipeline',
  nlvr2: 'createNlvr2Pipeline',
  retrieval: 'createRetrievalPipeline',
};

/**
 * Opens a task's pipeline: the model (refused with a CHECKPOINT error when its head answers another task),
 * its schedule through core's resolver and its backend through core's registry. `caller` names the
 * constructor in errors.
 */
export async function openTask(
  options: PipelineOptions,
  task: ViltTask,
  caller: string,
): Promise<TaskRunner> {
  if (options === null || typeof options !== 'object')
    throw new PumerError('VALUE', `${caller} takes an options object {model, backend?, reduction?}`);
  const loaded = resolveModel(options.model);
  const own = loaded.model.task ?? 'vqa';
  if (own !== task) {
    throw new PumerError(
      'CHECKPOINT',
      `${caller}: this ${loaded.config.architecture} checkpoint answers ${TASK_NAMES[own]}, not ${TASK_NAMES[task]}: use ${TASK_CONSTRUCTORS[own]}, or createPipeline('auto', ...)`,
    );
  }
  const geometry = loaded.config.geometry;
  const schedule = resolveSchedule(options.reduction, {
    numLayers: geometry.numLayers,
    modelSchedule: loaded.reduction,
  });
  const reduction = schedule.config;
  const backends = await backendSource(options.backend);
  const numImages = loaded.model.geometry.numImages;
  const patch = geometry.patchSize;
  const window = loaded.tokenizer.window;

  async function run<T extends PreparedExample>(
    examples: readonly T[],
    onBatch: (batch: readonly { readonly index: number; readonly example: T }[], out: ViltOutputs) => void,
    opts: { readonly batching?: Batching; readonly batchSize?: number } = {},
  ): Promise<void> {
    const batching = opts.batching ?? 'pad';
    if (batching !== 'pad' && batching !== 'by-size')
      throw new PumerError('VALUE', `batching must be 'pad' or 'by-size', got ${String(batching)}`);
    const batchSize = opts.batchSize ?? Number.POSITIVE_INFINITY;
    if (!(batchSize >= 1))
      throw new PumerError('VALUE', `batchSize must be at least 1, got ${String(opts.batchSize)}`);
    const groups = new Map<string, { index: number; example: T }[]>();
    examples.forEach((example, index) => {
      if (example.images.length !== numImages)
        throw new PumerError(
          'VALUE',
          `example ${index} has ${example.images.length} images, the model takes ${numImages}`,
        );
      const key = batching === 'pad' ? 'all' : example.images.map((im) => im.shape.join('x')).join('+');
      const g = groups.get(key);
      if (g) g.push({ index, example });
      else groups.set(key, [{ index, example }]);
    });
    const { backend } = await backends.next();
    for (const group of groups.values()) {
      for (let start = 0; start < group.length; start += batchSize) {
        const batch = group.slice(start, start + batchSize);
        const out = await backend.runVilt(loaded.model, batchInputs(batch.map((b) => b.example)), reduction);
        onBatch(batch, out);
      }
    }
  }

  /**
   * [B, T] text and, for one image per example, [B, C, H, W] pixels with a [B, H, W] mask; for NLVR2's pair,
   * every image of the batch padded together (as Hugging Face's processor pads a pair) into
   * [B, 2, C, H, W] and [B, 2, H, W] — the same memory as the 2B padded images in example order.
   */
  function batchInputs(batch: readonly PreparedExample[]): ViltInputs {
    const padded = padImages(batch.flatMap((e) => e.images));
    const [, c, h, w] = padded.pixelValues.shape as [number, number, number, number];
    const b = batch.length;
    const imagesShape = numImages === 1 ? [b] : [b, numImages];
    return {
      inputIds: intTensor(
        batch.flatMap((e) => e.text.inputIds),
        [b, window],
      ),
      attentionMask: intTensor(
        batch.flatMap((e) => e.text.attentionMask),
        [b, window],
      ),
      pixelValues: floatTensor(padded.pixelValues.data, [...imagesShape, c, h, w]),
      pixelMask: intTensor(padded.pixelMask.data, [...imagesShape, h, w]),
    };
  }

  return {
    task,
    loaded,
    get backend() {
      return backends.current().backend;
    },
    reduction,
    info() {
      const { backend, reason } = backends.current();
      return {
        backend: { ...backend.info(), reason },
        schedule,
        model: loaded.model.id,
        task,
        startup: pipelineStartup(loaded, backend),
      };
    },
    prepare: (image, source) => prepareImage(decodeImageInput(image), loaded.preprocessor, source),
    run,
    details(out, b, example) {
      const passes = out.imagePasses ?? [out.layers];
      return example.images.map((image, i) =>
        // This image's own patch grid: padding tokens after it are not patches of it.
        composeDetails(passes[i], b, window, { rows: image.shape[1] / patch, cols: image.shape[2] / patch }),
      );
    },
  };
}

/** Softmax over one row of logits (VE and NLVR2 classify with cross-entropy). */
export function softmax(logits: Float32Array): Float64Array {
  const max = Math.max(...logits);
  const e = Float64Array.from(logits, (v) => Math.exp(v - max));
  const sum = e.reduce((s, v) => s + v, 0);
  return e.map((v) => v / sum);
}

/** Refuses NaN logits: they mean the model computed garbage (non-finite weights or an overflow). */
export function checkLogits(logits: Float32Array, labels: readonly string[]): void {
  const nan = logits.findIndex((v) => Number.isNaN(v));
  if (nan >= 0) {
    const count = logits.reduce((n, v) => n + (Number.isNaN(v) ? 1 : 0), 0);
    throw new PumerError(
      'VALUE',
      `the model produced ${count} NaN logit${count === 1 ? '' : 's'} of ${logits.length} (the first for "${labels[nan] ?? nan}"): its weights or inputs hold non-finite values`,
    );
  }
}

/** One class of a softmax head (VE, NLVR2). */
export interface ClassScore {
  readonly label: string;
  /** softmax over the head's logits. */
  readonly probability: number;
  readonly logit: number;
}

/** Every class of a softmax head's row, in label order, and the index of the best (ties: the lower). */
export function classScores(
  row: Float32Array,
  labels: readonly string[],
): { classes: ClassScore[]; best: number } {
  checkLogits(row, labels);
  const p = softmax(row);
  const classes = labels.map((label, i) => ({ label, probability: p[i], logit: row[i] }));
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return { classes, best };
}

/** What a softmax head (VE, NLVR2) answers for one example: the best class, every class and the raw row. */
export interface Classification {
  /** The most probable class. */
  readonly label: string;
  readonly probability: number;
  /** Every class, in label order. */
  readonly classes: readonly ClassScore[];
  readonly logits: Float32Array;
}

/**
 * Example `b`'s answer from a batch's [B, labels] logits, and the index of its best class (NLVR2 reads it
 * against the "true" output). Every model family's classification pipelines build their results here.
 */
export function classifyRow(
  logits: Float32Array,
  b: number,
  labels: readonly string[],
): { classification: Classification; best: number } {
  const row = logits.slice(b * labels.length, (b + 1) * labels.length);
  const { classes, best } = classScores(row, labels);
  return {
    classification: {
      label: classes[best].label,
      probability: classes[best].probability,
      classes,
      logits: row,
    },
    best,
  };
}
