import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PumerError } from '@pumer/core';

/**
 * The root folder of the installed package `name`, found by walking up from `moduleUrl` (the caller's
 * `import.meta.url`) to the package.json that names it — so a package finds its own `assets/` from src/ (tests,
 * tsx), dist/ ESM and dist/ CJS alike.
 */
export function packageRoot(name: string, moduleUrl: string): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === name) return dir;
      } catch {
        // not our manifest: keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new PumerError('CHECKPOINT', `cannot find the ${name} package root (and its assets/)`);
    dir = parent;
  }
}
