import { join } from 'node:path';
import { packageRoot as findPackageRoot } from '@pumer/vilt/node';

/**
 * The files shipped in the package's `assets/`: tokenizers the checkpoints' config.json may name and no hub
 * download provides here (`tiny-roberta`, the test tokenizer of the tiny models). Found by walking up from
 * this module to the package root, so it works from src/ (tests, tsx), dist/ ESM and dist/ CJS alike.
 */

const packageRoot = (): string => findPackageRoot('@pumer/meter', import.meta.url);

/** The tokenizer names config.json may give that a bundled tokenizer.json answers. */
export const BUNDLED_TOKENIZERS: readonly string[] = ['tiny-roberta'];

/**
 * Path of the bundled tokenizer.json of `name` (default `tiny-roberta`: a 64-token byte-level BPE for the tiny
 * test models, see assets/tiny-roberta/README.md), or null when none is bundled under that name.
 */
export function bundledTokenizerPath(name = 'tiny-roberta'): string | null {
  return BUNDLED_TOKENIZERS.includes(name) ? join(packageRoot(), 'assets', name, 'tokenizer.json') : null;
}
