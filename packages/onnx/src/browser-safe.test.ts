import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The main and graph entries must load in a browser: no Node built-ins and no onnxruntime-node outside
// node.ts and tests (`*.test.ts` and the `*.test-helpers.ts` only tests import).
describe('browser safety of the main and graph entries', () => {
  const dir = join(import.meta.dirname, '.');
  const sources = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter(
    (f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.test-helpers.ts') && f !== 'node.ts',
  );

  it.each(sources)('%s imports nothing Node-only', (file) => {
    const text = readFileSync(join(dir, file), 'utf8');
    const imports = [...text.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
    expect(imports.length).toBeGreaterThan(0);
    for (const spec of imports) {
      expect(spec, `${file} imports ${spec}`).not.toMatch(
        /^node:|^(fs|path|os|url|module)$|onnxruntime-node/,
      );
    }
  });
});
