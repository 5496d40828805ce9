import type { Backend, ViltModel } from '@pumer/core';
import type { LoadedVilt } from './model.js';

/**
 * What a pipeline's first answer waited for, phase by phase (docs/benchmark.md, "Start-up"): reading the
 * checkpoint, then for each whole-model graph the backend compiled for it, building the graph, writing it,
 * creating the runtime's session (and whether an on-disk graph cache held it), and the first run.
 */

/** One whole-model graph's start-up on a backend that reports it (node, webgpu), in milliseconds. */
export interface GraphStartupPhases {
  /** The graph's key (model content, head, geometry, schedule). */
  readonly graph: string;
  readonly schedule: string;
  /** Hashing the model's content for the graph's key (the model's first graph only). */
  readonly hashWeightsMs: number;
  readonly buildGraphMs: number;
  /** Writing the graph for the runtime (0 when a graph cache held it). */
  readonly writeGraphMs: number;
  readonly createSessionMs: number;
  /**
   * 'hit' | 'miss' | 'rebuilt' (a damaged entry was replaced) | 'off' (no on-disk cache) | 'memory' (compiled
   * earlier in this process for another model object with the same content).
   */
  readonly graphCache: string;
  /** The graph's first run (null until it ran). */
  readonly firstRunMs: number | null;
}

export interface PipelineStartup {
  /** loadVilt's time: reading the checkpoint's files, decoding and checking the weights (null: not loaded by loadVilt). */
  readonly readWeightsMs: number | null;
  /** The graphs compiled for this model, in the order first used (empty on backends that compile none). */
  readonly graphs: readonly GraphStartupPhases[];
}

/** A backend that reports its graphs' start-up (@pumer/onnx's OrtGraphBackend does). */
interface ReportsStartup {
  graphStartups(model: ViltModel): readonly GraphStartupPhases[];
}

function reportsStartup(backend: Backend): backend is Backend & ReportsStartup {
  return typeof (backend as Partial<ReportsStartup>).graphStartups === 'function';
}

/** The start-up of `loaded` on `backend` so far. */
export function pipelineStartup(loaded: LoadedVilt, backend: Backend): PipelineStartup {
  return {
    readWeightsMs: loaded.loadMs ?? null,
    graphs: reportsStartup(backend) ? [...backend.graphStartups(loaded.model)] : [],
  };
}
