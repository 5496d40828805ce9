import {
  type Backend,
  type FloatTensor,
  floatTensor,
  intTensor,
  type LayerTrace,
  type MeterInputs,
  type MeterOutputs,
  PumerError,
  resolveSchedule,
  type ScheduleChoice,
  type ViltTask,
} from '@pumer/core';
import {
  backendSource,
  decodeImageInput,
  type EncodedQuestion,
  type ImageInput,
  type PipelineBaseOf,
  stackImages,
  TASK_NAMES,
} from '@pumer/vilt';
import type { LoadedMeter } from './model.js';
import { prepareMeterImage } from './preprocessor.js';

/**
 * What every METER task pipeline shares: the model, the backend (only from core's registry, through
 * @pumer/vilt's backendSource: docs/architecture.md, "Backends"), the schedule (only from core's resolver, over
 * the model's co-attention steps: docs/schedules.md), and how prepared examples become batches for
 * `backend.runMeter`.
 */

export interface MeterPipelineOptions {
  /**
   * A registered backend name ('node', 'webgpu', 'cpu' once their packages are imported; 'auto'), or a Backend:
   * kept for the pipeline's life. Absent: every call runs on core's active backend, or the `auto` pick.
   */
  readonly backend?: string | Backend;
  /**
   * 'model' (default): the checkpoint's own schedule, no reduction if it has none; a name from core's
   * `scheduleNames('meter')` (scaled to the model's number of co-attention steps); null or 'unreduced' for none; or a
   * config whose `reduceLayers` are step indices.
   */
  readonly reduction?: ScheduleChoice;
}

/** What one co-attention step did to the token counts of a pass (image counts include the image CLS). */
export interface MeterStepCounts {
  readonly step: number;
  readonly kind: LayerTrace['kind'];
  readonly textIn: number;
  readonly imageIn: number;
  readonly textOut: number;
  readonly imageOut: number;
}

/** Per image pass (NLVR2: two), each co-attention step's token counts. */
export interface MeterDetails {
  readonly passes: readonly (readonly MeterStepCounts[])[];
}

/**
 * What every METER task pipeline exposes besides its own calls: @pumer/vilt's pipeline base over a LoadedMeter
 * (info() reports backend and why, schedule, model id and task, as ViLT's pipelines do).
 */
export interface MeterPipelineBase extends PipelineBaseOf<LoadedMeter> {}

/** Lets `@pumer/meter/node` teach the pipelines to load checkpoint directories. */
const LOADER = Symbol.for('@pumer/meter/checkpoint-loader');

export function setMeterCheckpointLoader(loader: ((dir: string) => LoadedMeter) | null): void {
  (globalThis as { [LOADER]?: unknown })[LOADER] = loader;
}

function isLoadedMeter(v: unknown): v is LoadedMeter {
  if (v === null || typeof v !== 'object') return false;
  const { model, tokenizer } = v as Record<string, unknown>;
  return (
    model !== null &&
    typeof model === 'object' &&
    (model as { kind?: unknown }).kind === 'meter' &&
    tokenizer !== null &&
    typeof tokenizer === 'object'
  );
}

/** A LoadedMeter as given, or the directory loaded through `@pumer/meter/node`'s loader. */
export function resolveMeterModel(model: string | LoadedMeter): LoadedMeter {
  if (typeof model !== 'string') {
    if (isLoadedMeter(model)) return model;
    throw new PumerError(
      'VALUE',
      `model must be a METER checkpoint directory or a model from loadMeter / meterFromFiles, got ${model === null ? 'null' : typeof model}`,
    );
  }
  const loader = (globalThis as { [LOADER]?: ((dir: string) => LoadedMeter) | null })[LOADER];
  if (!loader)
    throw new PumerError(
      'CHECKPOINT',
      `cannot load "${model}" here: import '@pumer/meter/node' (Node), or pass a model from meterFromFiles`,
    );
  return loader(model);
}

/** One example: its encoded text and its prepared [3, S, S] image(s), one per model image. */
export interface PreparedMeterExample {
  readonly text: EncodedQuestion;
  readonly images: readonly FloatTensor[];
}

/** A pipeline's model, schedule and backend, and the one way its examples run. */
export interface MeterTaskRunner extends MeterPipelineBase {
  /** Decodes an image and prepares it with the CLIP transform; `source` names it in errors. */
  prepare(image: ImageInput, source: string): FloatTensor;
  /** Runs examples in batches of at most `batchSize` (default: all); `onBatch` gets each batch's outputs. */
  run<T extends PreparedMeterExample>(
    examples: readonly T[],
    onBatch: (batch: readonly { readonly index: number; readonly example: T }[], out: MeterOutputs) => void,
    batchSize?: number,
  ): Promise<void>;
  /** Each pass's step counts (the batch's: every row of a batch has the same counts). */
  details(out: MeterOutputs): MeterDetails;
}

function stepCounts(trace: readonly LayerTrace[]): MeterStepCounts[] {
  return trace.map((t) => ({
    step: t.layer,
    kind: t.kind,
    textIn: t.textIn,
    imageIn: t.imageIn,
    textOut: t.textOut,
    imageOut: t.imageOut,
  }));
}

/** The [B, T] text tensors and the [B, 3, S, S] (or NLVR2's [B, 2, 3, S, S]) pixels of a batch. */
export function meterBatchInputs(
  batch: readonly PreparedMeterExample[],
  numImages: number,
  window: number,
): MeterInputs {
  const b = batch.length;
  const pixels = stackImages(batch.flatMap((e) => e.images));
  return {
    inputIds: intTensor(
      batch.flatMap((e) => e.text.inputIds),
      [b, window],
    ),
    attentionMask: intTensor(
      batch.flatMap((e) => e.text.attentionMask),
      [b, window],
    ),
    pixelValues: floatTensor(
      pixels.data,
      numImages === 1 ? pixels.shape : [b, numImages, ...pixels.shape.slice(1)],
    ),
  };
}

/**
 * Opens a task's runner: the model (refused when its head answers another task), its schedule through core's
 * resolver (numLayers = the model's co-attention steps) and its backend through core's registry.
 */
export async function openMeterTask(
  model: string | LoadedMeter,
  options: MeterPipelineOptions,
  task: ViltTask,
): Promise<MeterTaskRunner> {
  if (options === null || typeof options !== 'object')
    throw new PumerError(
      'VALUE',
      'createMeterPipeline takes an options object {task?, backend?, reduction?}',
    );
  const loaded = resolveMeterModel(model);
  const own = loaded.model.task;
  if (own !== task)
    throw new PumerError(
      'CHECKPOINT',
      `this ${loaded.config.architecture} checkpoint answers ${TASK_NAMES[own]}, not ${TASK_NAMES[task]}: use task '${own}' or 'auto'`,
    );
  const geometry = loaded.model.geometry;
  const schedule = resolveSchedule(options.reduction, {
    numLayers: geometry.numSteps,
    family: 'meter',
    modelSchedule: loaded.reduction,
  });
  const reduction = schedule.config;
  const backends = await backendSource(options.backend);
  const window = loaded.tokenizer.window;

  async function run<T extends PreparedMeterExample>(
    examples: readonly T[],
    onBatch: (batch: readonly { readonly index: number; readonly example: T }[], out: MeterOutputs) => void,
    batchSize = Number.POSITIVE_INFINITY,
  ): Promise<void> {
    if (!(batchSize >= 1))
      throw new PumerError('VALUE', `batchSize must be at least 1, got ${String(batchSize)}`);
    const indexed = examples.map((example, index) => {
      if (example.images.length !== geometry.numImages)
        throw new PumerError(
          'VALUE',
          `example ${index} has ${example.images.length} images, the model takes ${geometry.numImages}`,
        );
      return { index, example };
    });
    const { backend } = await backends.next();
    for (let start = 0; start < indexed.length; start += batchSize) {
      const batch = indexed.slice(start, start + batchSize);
      const inputs = meterBatchInputs(
        batch.map((e) => e.example),
        geometry.numImages,
        window,
      );
      onBatch(batch, await backend.runMeter(loaded.model, inputs, reduction));
    }
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
      return { backend: { ...backend.info(), reason }, schedule, model: loaded.model.id, task };
    },
    prepare: (image, source) => prepareMeterImage(decodeImageInput(image, source), loaded.imageSize, source),
    run,
    details: (out) => ({ passes: (out.passes ?? [out.steps]).map(stepCounts) }),
  };
}
