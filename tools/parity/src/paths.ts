import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `../shared/golden` relative to the repository root (a sibling of the clone), found from this file's place
 * in the source tree: tools/parity/src → repo root is three levels up.
 */
export function defaultGoldenDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return resolve(here, '..', '..', '..', '..', 'shared', 'golden');
}
