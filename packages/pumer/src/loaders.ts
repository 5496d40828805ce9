import {
  AUTO_BACKEND,
  type Backend,
  BACKEND_PACKAGES,
  BackendError,
  listBackends,
  setBackend,
} from '@pumer/core';

/**
 * The one backend loader: the CLI, the benchmark and the parity runner load backends through it, by the
 * names of core's `BACKEND_PACKAGES` table (docs/architecture.md, "Backends"). A backend package registers
 * itself with core's registry when imported; this imports it only when it is asked for and not yet there.
 */

/** Node, Deno and Bun set process.versions.node; browsers and web workers do not. */
function runsInNode(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof proc?.versions?.node === 'string';
}

/**
 * The backends `auto` chooses among here, best first: onnxruntime-node in Node (CUDA when installed, else its
 * CPU provider), WebGPU in a browser, and the TypeScript reference everywhere when nothing else initialises.
 */
export function autoBackendNames(): string[] {
  return runsInNode() ? ['node', 'cpu'] : ['webgpu', 'cpu'];
}

/**
 * The specifier is a variable on purpose: a bundler must not pull onnxruntime-node into a browser build. In a
 * browser the entry point has already imported (and so registered) the backends it can run.
 */
function importPackage(specifier: string): Promise<unknown> {
  return import(/* @vite-ignore */ /* webpackIgnore: true */ specifier);
}

const isRegistered = (name: string) => listBackends().some((b) => b.name === name);

/** Imports the package of backend `name` unless the backend is registered already. */
export async function importBackend(name: string): Promise<void> {
  if (isRegistered(name)) return;
  const pkg = BACKEND_PACKAGES[name];
  if (pkg === undefined) {
    throw new BackendError(
      `unknown backend "${name}" (expected ${[AUTO_BACKEND, ...Object.keys(BACKEND_PACKAGES)].join(', ')})`,
    );
  }
  try {
    await importPackage(pkg);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new BackendError(`could not import ${pkg} for backend "${name}" (is it installed?): ${msg}`, {
      cause: err,
    });
  }
  if (!isRegistered(name))
    throw new BackendError(`${pkg} was imported but did not register a backend named "${name}"`);
}

/**
 * Loads backend `name` (`auto`: the best of `autoBackendNames()` that initialises), makes it core's active
 * backend and returns it initialised; `activeBackend()` then says which one and why. Throws a BackendError
 * naming the package to install when it cannot.
 */
export async function loadBackend(name: string): Promise<Backend> {
  if (name !== AUTO_BACKEND) {
    await importBackend(name);
    return setBackend(name);
  }
  const missing: string[] = [];
  for (const candidate of autoBackendNames()) {
    await importBackend(candidate).catch((err: Error) => missing.push(err.message));
  }
  try {
    return await setBackend(AUTO_BACKEND);
  } catch (err) {
    if (missing.length === 0) throw err;
    throw new BackendError(`${(err as Error).message}; ${missing.join('; ')}`, { cause: err });
  }
}
