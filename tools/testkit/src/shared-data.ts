import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The ONE way tests and tools find the project's reference data (golden vectors, tiny checkpoints, the
 * ShapesVQA eval set, reference.json): `$PUMER_SHARED` when set, else `shared/` beside the repository root,
 * the root being the directory that holds `pnpm-workspace.yaml` above this module (or above the cwd).
 */
export const SHARED_ENV = 'PUMER_SHARED';

/** This module's directory; undefined where there is no file URL (a bundle without import.meta.url). */
function moduleDir(): string | undefined {
  try {
    return typeof import.meta.url === 'string' ? dirname(fileURLToPath(import.meta.url)) : undefined;
  } catch {
    return undefined;
  }
}

/** The nearest directory at or above `start` that holds `pnpm-workspace.yaml`, or null. */
export function findRepoRoot(start: string): string | null {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

export interface SharedDirOptions {
  /** Where to start looking for the repository root before this module's own place and the cwd. */
  readonly from?: string;
  /** The environment to read PUMER_SHARED from (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * The reference data directory: $PUMER_SHARED, else `<repo root>/../shared`. Null when neither is set nor
 * found (outside a checkout); it does not check that the directory exists (see `requireSharedData`).
 */
export function findSharedDir(options: SharedDirOptions = {}): string | null {
  const env = options.env ?? process.env;
  const fromEnv = env[SHARED_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  for (const start of [options.from, moduleDir(), process.cwd()]) {
    if (start === undefined) continue;
    const root = findRepoRoot(start);
    if (root !== null) return resolve(root, '..', 'shared');
  }
  return null;
}

/** `findSharedDir`, or an error saying how to point at the data when there is no repository to walk up to. */
export function sharedDir(options: SharedDirOptions = {}): string {
  const dir = findSharedDir(options);
  if (dir === null) {
    throw new Error(
      `cannot find the reference data: set ${SHARED_ENV}, or run inside the repository (it looks for ../shared beside the root holding pnpm-workspace.yaml)`,
    );
  }
  return dir;
}

/** A path inside the reference data: `sharedPath('golden')`, `sharedPath('models', 'reference.json')`. */
export function sharedPath(...parts: string[]): string {
  return join(sharedDir(), ...parts);
}

/**
 * Whether the reference data at `sharedPath(...parts)` is there, for `describe.skipIf(!hasSharedData(...))`.
 * Under CI=true missing data is an error, not a skip: CI always has ../shared beside the clone.
 */
export function hasSharedData(...parts: string[]): boolean {
  const path = sharedPath(...parts);
  if (existsSync(path)) return true;
  const ci = process.env['CI'];
  if (ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0') {
    throw new Error(
      `reference data missing at ${path} (CI requires it; point ${SHARED_ENV} at the shared data directory)`,
    );
  }
  return false;
}
