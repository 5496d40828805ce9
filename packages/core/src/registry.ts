import type { Backend } from './contracts.js';
import { BackendError } from './errors.js';

/**
 * The backend registry: the one piece of global state in PuMer.js. Backend packages register a factory
 * under a name when imported; code picks one with `setBackend(name)` and can switch at run time without
 * re-importing anything (the shape TensorFlow.js and onnxruntime-common made familiar).
 */
export type BackendFactory = () => Backend | Promise<Backend>;

interface Entry {
  readonly factory: BackendFactory;
  readonly priority: number;
  instance?: Promise<Backend>;
}

const entries = new Map<string, Entry>();
let active: { name: string; backend: Backend } | null = null;

/** Registers (or replaces) a backend factory. Higher priority wins in `ready()`. */
export function registerBackend(name: string, factory: BackendFactory, priority = 0): void {
  if (typeof name !== 'string' || name.length === 0)
    throw new BackendError('backend name must be a non-empty string');
  if (typeof factory !== 'function') throw new BackendError(`backend "${name}": factory must be a function`);
  entries.set(name, { factory, priority });
}

export function removeBackend(name: string): void {
  entries.delete(name);
  if (active?.name === name) active = null;
}

/** Initialises (once) and returns the backend `name`, without making it the active one. */
export async function findBackend(name: string): Promise<Backend> {
  const entry = entries.get(name);
  if (!entry) {
    const known = [...entries.keys()].join(', ') || 'none';
    throw new BackendError(
      `unknown backend "${name}" (registered: ${known}); import its package first, e.g. @pumer/backend-${name}`,
    );
  }
  if (!entry.instance) {
    entry.instance = Promise.resolve()
      .then(() => entry.factory())
      .catch((err: unknown) => {
        entry.instance = undefined;
        const msg = err instanceof Error ? err.message : String(err);
        throw new BackendError(`backend "${name}" failed to initialise: ${msg}`, { cause: err });
      });
  }
  return entry.instance;
}

/** Makes `name` the active backend, initialising it if needed. */
export async function setBackend(name: string): Promise<Backend> {
  const backend = await findBackend(name);
  active = { name, backend };
  return backend;
}

/** The active backend. Throws if none was set: call `await setBackend(name)` or `await ready()` first. */
export function getBackend(): Backend {
  if (!active) {
    throw new BackendError(
      `no active backend: call await setBackend(name) or await ready() first (registered: ${[...entries.keys()].join(', ') || 'none'})`,
    );
  }
  return active.backend;
}

/** Activates the highest-priority backend that initialises, unless one is already active. */
export async function ready(): Promise<Backend> {
  if (active) return active.backend;
  const byPriority = [...entries.entries()].sort((a, b) => b[1].priority - a[1].priority);
  const failures: string[] = [];
  for (const [name] of byPriority) {
    try {
      return await setBackend(name);
    } catch (err) {
      failures.push(err instanceof Error ? err.message : String(err));
    }
  }
  throw new BackendError(
    `no backend could be initialised${failures.length ? `: ${failures.join('; ')}` : ' (none registered)'}`,
  );
}

export interface BackendListing {
  readonly name: string;
  readonly priority: number;
  readonly initialised: boolean;
  readonly active: boolean;
}

export function listBackends(): BackendListing[] {
  return [...entries.entries()]
    .map(([name, e]) => ({
      name,
      priority: e.priority,
      initialised: e.instance !== undefined,
      active: active?.name === name,
    }))
    .sort((a, b) => b.priority - a.priority);
}

/** Disposes every initialised backend and clears the active one (registrations stay). */
export async function disposeBackends(): Promise<void> {
  const pending: Promise<void>[] = [];
  for (const e of entries.values()) {
    if (e.instance) pending.push(e.instance.then((b) => b.dispose()).catch(() => undefined));
    e.instance = undefined;
  }
  active = null;
  await Promise.all(pending);
}
