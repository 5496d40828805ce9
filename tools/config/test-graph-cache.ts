import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Vitest global setup: the test run's graph cache (and the checkpoint memo beside it) is a fresh folder under
 * the system's temporary folder, removed when the run ends, so tests never write into the user's ~/.cache.
 * Tests that need their own folder pass it to the backend (graphCache) or the loader (memo). Every project of
 * one run shares the folder (the first setup makes it), as their workers inherit this process's environment.
 */

const ENV = 'PUMER_GRAPH_CACHE';
const SHARED = Symbol.for('@pumer/test-graph-cache');

interface Shared {
  dir: string;
  users: number;
}

export default function setup(): () => void {
  const g = globalThis as { [SHARED]?: Shared };
  const shared = (g[SHARED] ??= { dir: mkdtempSync(path.join(os.tmpdir(), 'pumer-test-graphs-')), users: 0 });
  shared.users++;
  process.env[ENV] = shared.dir;
  return () => {
    if (--shared.users > 0) return;
    rmSync(shared.dir, { recursive: true, force: true });
    delete g[SHARED];
  };
}
