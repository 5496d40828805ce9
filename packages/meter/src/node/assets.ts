import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PumerError } from '@pumer/core';

/**
 * The files shipped in the package's `assets/`: tokenizers the checkpoints' config.json may name and no hub
 * download provides here (`tiny-roberta`, the test tokenizer of the tiny models). Found by walking up from
 * this module to the package root, so it works from src/ (tests, tsx), dist/ ESM and dist/ CJS alike.
 */

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === '@pumer/meter')
          return dir;
      } catch {
        // not our manifest: keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new PumerError('CHECKPOINT', 'cannot find the @pumer/meter package root (and its assets/)');
    dir = parent;
  }
}

/** The tokenizer names config.json may give that a bundled tokenizer.json answers. */
export const BUNDLED_TOKENIZERS: readonly string[] = ['tiny-roberta'];

/**
 * Path of the bundled tokenizer.json of `name` (default `tiny-roberta`: a 64-token byte-level BPE for the tiny
 * test models, see assets/tiny-roberta/README.md), or null when none is bundled under that name.
 */
export function bundledTokenizerPath(name = 'tiny-roberta'): string | null {
  return BUNDLED_TOKENIZERS.includes(name) ? join(packageRoot(), 'assets', name, 'tokenizer.json') : null;
}
