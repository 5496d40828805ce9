import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

/**
 * One scratch folder per test run, shared by the test files that need the project installed from the tarballs
 * (`installed-project.ts` installs it once, on first use). Cheap when no test asks for it.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    pumerScratchRoot: string;
  }
}

export default function setup(project: TestProject): () => void {
  const root = mkdtempSync(path.join(os.tmpdir(), 'pumer-readme-'));
  project.provide('pumerScratchRoot', root);
  return () => rmSync(root, { recursive: true, force: true });
}
