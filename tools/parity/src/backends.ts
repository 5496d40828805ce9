import { type Backend, BackendError, listBackends, setBackend } from '@pumer/core';

/** The backend packages the runner knows, by registry name. */
export const BACKEND_PACKAGES: Readonly<Record<string, string>> = Object.freeze({
  cpu: '@pumer/backend-cpu',
  node: '@pumer/backend-node',
  webgpu: '@pumer/backend-webgpu',
});

/**
 * Imports a backend package for its side effect (it registers itself). The specifier is a variable on purpose:
 * the device backends are optional peers, and neither the type checker nor a bundler should need them.
 */
function importPackage(specifier: string): Promise<unknown> {
  return import(/* @vite-ignore */ specifier);
}

/**
 * Imports the package of backend `name`, checks that it registered itself under that name, and makes it the
 * active backend. Throws a PumerError (code BACKEND) naming the package and what went wrong.
 */
export async function loadBackend(name: string): Promise<Backend> {
  const pkg = BACKEND_PACKAGES[name];
  if (pkg === undefined) {
    throw new BackendError(`unknown backend "${name}" (known: ${Object.keys(BACKEND_PACKAGES).join(', ')})`);
  }
  try {
    await importPackage(pkg);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new BackendError(`could not import ${pkg} for backend "${name}": ${msg}`, { cause: err });
  }
  if (!listBackends().some((b) => b.name === name)) {
    throw new BackendError(`${pkg} was imported but did not register a backend named "${name}"`);
  }
  return setBackend(name);
}
