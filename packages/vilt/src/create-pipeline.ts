import { PumerError, type ViltTask } from '@pumer/core';
import { createNlvr2Pipeline, type Nlvr2Pipeline } from './nlvr2-pipeline.js';
import { createVqaPipeline, type VqaPipeline } from './pipeline.js';
import { type PipelineOptions, resolveModel } from './pipeline-shared.js';
import { createRetrievalPipeline, type RetrievalPipeline } from './retrieval-pipeline.js';
import { createVePipeline, type VePipeline } from './ve-pipeline.js';

/**
 * One entry point for every task: `createPipeline('auto', {model})` opens the pipeline the checkpoint's head
 * answers (`loaded.model.task`); a task name opens that one, and refuses a checkpoint of another task.
 */

export type ViltPipeline = VqaPipeline | VePipeline | Nlvr2Pipeline | RetrievalPipeline;

/** The pipeline of each task. */
export interface TaskPipelines {
  vqa: VqaPipeline;
  ve: VePipeline;
  nlvr2: Nlvr2Pipeline;
  retrieval: RetrievalPipeline;
}

export const PIPELINE_TASKS: readonly ViltTask[] = ['vqa', 've', 'nlvr2', 'retrieval'];

export function createPipeline<T extends ViltTask>(
  task: T,
  options: PipelineOptions,
): Promise<TaskPipelines[T]>;
export function createPipeline(task: 'auto', options: PipelineOptions): Promise<ViltPipeline>;
export async function createPipeline(
  task: ViltTask | 'auto',
  options: PipelineOptions,
): Promise<ViltPipeline> {
  if (task !== 'auto' && !PIPELINE_TASKS.includes(task)) {
    throw new PumerError(
      'VALUE',
      `unknown task ${JSON.stringify(task)} (expected 'auto' or one of ${PIPELINE_TASKS.join(', ')})`,
    );
  }
  if (options === null || typeof options !== 'object')
    throw new PumerError(
      'VALUE',
      'createPipeline takes a task and an options object {model, backend?, reduction?}',
    );
  // Load once: the task's constructor gets the loaded model, not the directory again.
  const loaded = resolveModel(options.model);
  const opened = { ...options, model: loaded };
  switch (task === 'auto' ? loaded.model.task : task) {
    case 'vqa':
      return createVqaPipeline(opened);
    case 've':
      return createVePipeline(opened);
    case 'nlvr2':
      return createNlvr2Pipeline(opened);
    case 'retrieval':
      return createRetrievalPipeline(opened);
  }
}
