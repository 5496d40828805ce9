import { runGoldenDocument } from '@pumer/testkit';
import { goldenFiles, hasSharedData, readGoldenDocument } from '@pumer/testkit/node';
import { afterAll, describe, expect, it } from 'vitest';
import { createNodeBackend } from './backend.js';

// Every golden file (docs/architecture.md, "Golden vectors") through the node backend's graphs.
const present = hasSharedData('golden');
const files = present ? goldenFiles() : [];

describe.skipIf(!present)('golden vectors on onnxruntime-node', async () => {
  const backend = await createNodeBackend({ provider: 'cpu' });
  afterAll(() => backend.dispose());

  it('finds the golden files', () => {
    expect(files.length).toBeGreaterThanOrEqual(15);
  });

  it.each(files)('%s', async (file) => {
    const r = await runGoldenDocument(readGoldenDocument(file), file, backend);
    expect(r.reason ?? '').toBe('');
    expect(r.passed).toBe(true);
  });
});
