import { PumerError, type ViltTask } from '@pumer/core';
import type { LoadedMeter } from './model.js';
import { type MeterNlvr2Pipeline, meterNlvr2Pipeline } from './nlvr2-pipeline.js';
import { type MeterPipelineOptions, openMeterTask, resolveMeterModel } from './pipeline-shared.js';
import { type MeterRetrievalPipeline, meterRetrievalPipeline } from './retrieval-pipeline.js';
import { type MeterVePipeline, meterVePipeline } from './ve-pipeline.js';
import { type MeterVqaPipeline, meterVqaPipeline } from './vqa-pipeline.js';

/**
 * One entry point for every METER task: `createMeterPipeline(model)` opens the pipeline the checkpoint's head
 * answers (`loaded.model.task`); `{task}` names one, and a checkpoint of another task is refused.
 */

export type MeterPipeline = MeterVqaPipeline | MeterVePipeline | MeterNlvr2Pipeline | MeterRetrievalPipeline;

export interface MeterTaskPipelines {
  vqa: MeterVqaPipeline;
  ve: MeterVePipeline;
  nlvr2: MeterNlvr2Pipeline;
  retrieval: MeterRetrievalPipeline;
}

export const METER_PIPELINE_TASKS: readonly ViltTask[] = ['vqa', 've', 'nlvr2', 'retrieval'];

export interface CreateMeterPipelineOptions extends MeterPipelineOptions {
  /** 'auto' (default): the checkpoint's own task. */
  readonly task?: ViltTask | 'auto';
}

export function createMeterPipeline<T extends ViltTask>(
  model: string | LoadedMeter,
  options: CreateMeterPipelineOptions & { readonly task: T },
): Promise<MeterTaskPipelines[T]>;
export function createMeterPipeline(
  model: string | LoadedMeter,
  options?: CreateMeterPipelineOptions,
): Promise<MeterPipeline>;
export async function createMeterPipeline(
  model: string | LoadedMeter,
  options: CreateMeterPipelineOptions = {},
): Promise<MeterPipeline> {
  if (options === null || typeof options !== 'object')
    throw new PumerError(
      'VALUE',
      'createMeterPipeline takes a model and an options object {task?, backend?, reduction?}',
    );
  const task = options.task ?? 'auto';
  if (task !== 'auto' && !METER_PIPELINE_TASKS.includes(task))
    throw new PumerError(
      'VALUE',
      `unknown task ${JSON.stringify(task)} (expected 'auto' or one of ${METER_PIPELINE_TASKS.join(', ')})`,
    );
  const loaded = resolveMeterModel(model);
  const runner = await openMeterTask(loaded, options, task === 'auto' ? loaded.model.task : task);
  switch (runner.task) {
    case 'vqa':
      return meterVqaPipeline(runner);
    case 've':
      return meterVePipeline(runner);
    case 'nlvr2':
      return meterNlvr2Pipeline(runner);
    case 'retrieval':
      return meterRetrievalPipeline(runner);
  }
}
