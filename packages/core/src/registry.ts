import type { Backend } from './contracts.js';
import { BackendError } from './errors.js';

/**
 * The backend registry: the one piece of global state in PuMer.js (docs/architecture.md, "Backends").
 * Backend packages register a factory under a name when imported; code picks one with `setBackend(name)`, or
 * lets `auto` pick the best that initialises, and can switch at run time without re-importing anything.
 *
 * The state lives on a global symbol, not in module scope: a backend registered through `require()` (the CJS
 * build of core) must be visible to code that imported core as ESM, and the other way round.
 */
export type BackendFactory = () => Backend | Promise<Backend>;

/** The package that registers each backend, for messages that tell a user what to install. */
export const BACKEND_PACKAGES: Readonly<Record<string, string>> = Object.freeze({
  node: '@pumer/backend-node',
  webgpu: '@pumer/backend-webgpu',
  cpu: '@pumer/backend-cpu',
});

/** The name that asks for the best registered backend. */
export const AUTO_BACKEND = 'auto';

interface Entry {
  readonly factory: BackendFactory;
  readonly priority: number;
  instance?: Promise<Backend>;
}

interface Active {
  readonly name: string;
  readonly backend: Backend;
  /** Why this backend is the active one, in one line. */
  readonly reason: string;
}

interface RegistryState {
  readonly entries: Map<string, Entry>;
  active: Active | null;
}

const KEY = Symbol.for('@pumer/core/backend-registry');

function state(): RegistryState {
  const g = globalThis as { [KEY]?: RegistryState };
  g[KEY] ??= { entries: new Map(), active: null };
  return g[KEY];
}

function registeredNames(): string {
  return [...state().entries.keys()].join(', ') || 'none';
}

function installHint(): string {
  return `install and import ${BACKEND_PACKAGES['node']} (Node), ${BACKEND_PACKAGES['webgpu']} (browsers) or ${BACKEND_PACKAGES['cpu']} (anywhere)`;
}

/** Registers (or replaces) a backend factory. Higher priority wins when `auto` picks. */
export function registerBackend(name: string, factory: BackendFactory, priority = 0): void {
  if (typeof name !== 'string' || name.length === 0 || name === AUTO_BACKEND)
    throw new BackendError(`backend name must be a non-empty string other than "${AUTO_BACKEND}"`);
  if (typeof factory !== 'function') throw new BackendError(`backend "${name}": factory must be a function`);
  state().entries.set(name, { factory, priority });
}

export function removeBackend(name: string): void {
  const s = state();
  s.entries.delete(name);
  if (s.active?.name === name) s.active = null;
}

/** Initialises (once) and returns the backend `name`, without making it the active one. */
export async function findBackend(name: string): Promise<Backend> {
  if (name === AUTO_BACKEND) return (await pickAuto()).backend;
  const entry = state().entries.get(name);
  if (!entry) {
    const pkg = BACKEND_PACKAGES[name];
    throw new BackendError(
      `unknown backend "${name}" (registered: ${registeredNames()}); ${pkg ? `install and import ${pkg}` : installHint()}`,
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

/** The highest-priority backend that initialises, and why it was chosen. */
async function pickAuto(): Promise<Active> {
  const byPriority = [...state().entries.entries()].sort((a, b) => b[1].priority - a[1].priority);
  if (byPriority.length === 0) throw new BackendError(`no backend is registered: ${installHint()}`);
  const failures: string[] = [];
  for (const [name] of byPriority) {
    try {
      const backend = await findBackend(name);
      const skipped = failures.length ? `; skipped ${failures.join('; ')}` : '';
      const others = byPriority.length > 1 ? ` of ${byPriority.map(([n]) => n).join(', ')}` : '';
      return { name, backend, reason: `auto: the best registered backend${others}${skipped}` };
    } catch (err) {
      failures.push(err instanceof Error ? err.message : String(err));
    }
  }
  throw new BackendError(`no backend could be initialised: ${failures.join('; ')}`);
}

/**
 * Makes `name` the active backend (initialising it if needed). `auto` picks the highest-priority registered
 * backend that initialises: in Node onnxruntime-node, in a browser WebGPU, the TypeScript reference last.
 */
export async function setBackend(name: string): Promise<Backend> {
  const active =
    name === AUTO_BACKEND
      ? await pickAuto()
      : { name, backend: await findBackend(name), reason: `set by setBackend('${name}')` };
  state().active = active;
  return active.backend;
}

/** The active backend. Throws if none was set: call `await setBackend(name)` or `await ready()` first. */
export function getBackend(): Backend {
  const active = state().active;
  if (!active) {
    throw new BackendError(
      `no active backend: call await setBackend(name) or await ready() first (registered: ${registeredNames()})`,
    );
  }
  return active.backend;
}

/** The active backend's name and why it is active, or null when none is. */
export function activeBackend(): { readonly name: string; readonly reason: string } | null {
  const a = state().active;
  return a ? { name: a.name, reason: a.reason } : null;
}

/** The active backend, or the `auto` pick (which then becomes active) when none is. */
export async function ready(): Promise<Backend> {
  const s = state();
  if (s.active) return s.active.backend;
  return setBackend(AUTO_BACKEND);
}

export interface BackendListing {
  readonly name: string;
  readonly priority: number;
  readonly initialised: boolean;
  readonly active: boolean;
}

export function listBackends(): BackendListing[] {
  const s = state();
  return [...s.entries.entries()]
    .map(([name, e]) => ({
      name,
      priority: e.priority,
      initialised: e.instance !== undefined,
      active: s.active?.name === name,
    }))
    .sort((a, b) => b.priority - a.priority);
}

/** Disposes every initialised backend and clears the active one (registrations stay). */
export async function disposeBackends(): Promise<void> {
  const s = state();
  const pending: Promise<void>[] = [];
  for (const e of s.entries.values()) {
    if (e.instance) pending.push(e.instance.then((b) => b.dispose()).catch(() => undefined));
    e.instance = undefined;
  }
  s.active = null;
  await Promise.all(pending);
}

/**
 * Resolves what a caller passed as `backend`: a Backend object is used as it is, a name through the registry
 * (`auto` included), and undefined means the active backend — or the `auto` pick when none is active.
 */
export async function resolveBackend(choice?: string | Backend): Promise<Backend> {
  if (choice === undefined) return ready();
  if (typeof choice === 'string') return findBackend(choice);
  if (choice && typeof choice === 'object' && typeof (choice as Backend).runVilt === 'function')
    return choice;
  throw new BackendError('backend must be a registered backend name, "auto" or a Backend object');
}
