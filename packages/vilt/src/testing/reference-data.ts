import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the tests find the project's shared reference data (tiny checkpoints, the ShapesVQA eval set,
 * reference.json): $PUMER_SHARED_MODELS, else ../shared/models next to the repository.
 */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

export const MODELS_DIR = process.env['PUMER_SHARED_MODELS'] ?? join(repoRoot, '..', 'shared', 'models');
export const EVAL_JSONL = join(MODELS_DIR, 'shapesvqa-eval', 'eval.jsonl');
export const REFERENCE_JSON = join(MODELS_DIR, 'reference.json');
export const HAVE_REFERENCE_DATA = existsSync(EVAL_JSONL) && existsSync(REFERENCE_JSON);
// CI always has ../shared beside the clone: there a missing data set is a failure, not a skip.
if (!HAVE_REFERENCE_DATA && process.env['CI']) {
  throw new Error(`reference data not found at ${MODELS_DIR} (set PUMER_SHARED_MODELS); CI requires it`);
}
export const CHECKPOINTS = ['tiny-vilt-shapes', 'tiny-vilt-shapes-pumer'] as const;
