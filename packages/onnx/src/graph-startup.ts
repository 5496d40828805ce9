import type { GraphBuilder } from './builder.js';

/**
 * What the first answer of a whole-model graph waits for, phase by phase, so a user (and `pumer run`, the
 * pipeline's `info()`, the startup benchmark) can tell start-up apart from per-answer latency.
 */

/**
 * Where a graph's session came from: `hit` (an on-disk graph cache held it), `miss` (built and stored),
 * `rebuilt` (the stored entry was damaged: rebuilt and stored again), `off` (no on-disk cache), `memory`
 * (compiled earlier in this process for another model object with the same content: nothing to do).
 */
export type GraphCacheOutcome = 'hit' | 'miss' | 'rebuilt' | 'off' | 'memory';

/** One whole-model graph's start-up, in milliseconds. */
export interface GraphStartup {
  /** The graph's cache key (model content, head, geometry, schedule). */
  readonly graph: string;
  /** The schedule's key ('unreduced' or its layers and ratios). */
  readonly schedule: string;
  /** Hashing the model's content for the graph's key (the model's first graph only; memoised after). */
  readonly hashWeightsMs: number;
  /** Building the graph in code (cheap: weights are referenced, not copied). */
  readonly buildGraphMs: number;
  /** Writing the graph for the runtime (ONNX with external data, or one serialised buffer); 0 on a cache hit. */
  readonly writeGraphMs: number;
  /** The runtime's session creation (graph optimisation, weight loading and packing). */
  readonly createSessionMs: number;
  readonly graphCache: GraphCacheOutcome;
  /** The session's first run (null until it ran). */
  readonly firstRunMs: number | null;
}

/** How a session was compiled (the phases of GraphStartup a compile has). */
export type CompilePhases = Pick<
  GraphStartup,
  'buildGraphMs' | 'writeGraphMs' | 'createSessionMs' | 'graphCache'
>;

/** A session made from a graph builder, and how (GraphRuntime.createGraphSession). */
export interface GraphSession<S> {
  readonly session: S;
  readonly graphCache: GraphCacheOutcome;
  readonly writeGraphMs: number;
  readonly createSessionMs: number;
}

/**
 * Creates sessions straight from graph builders (e.g. through an on-disk cache keyed on `key`). `about` is
 * what the caller needs back with a session of that key (plain JSON, e.g. each layer's plan and trace outputs)
 * when OpenCachedGraphSession later finds it without building the graph.
 */
export type CreateGraphSession<S> = (
  graph: GraphBuilder,
  key: string,
  label: string,
  about?: unknown,
) => Promise<GraphSession<S>>;

/**
 * A session for graph `key` from a cache that holds it (stored by CreateGraphSession with its `about`), without
 * building the graph: a warm start neither builds it nor reads the model's weights. Null when none is held.
 */
export type OpenCachedGraphSession<S> = (
  key: string,
  label: string,
) => Promise<(GraphSession<S> & { readonly about: unknown }) | null>;
