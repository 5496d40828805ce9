import { describe, expect, it } from 'vitest';
import { createNodeBackend } from './backend.js';
import { checkGolden, GOLDEN_DIR, loadGolden } from './golden.test-helpers.js';

// Every golden file (DESIGN.md §2) through the node backend's standalone graphs.
const cases = loadGolden();

describe(`golden vectors (${GOLDEN_DIR}) on onnxruntime-node`, async () => {
  const backend = await createNodeBackend({ provider: 'cpu' });

  it('finds the golden files', () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expect(await checkGolden(backend, c)).toEqual([]);
  });
});
