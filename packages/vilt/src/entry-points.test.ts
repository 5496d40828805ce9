import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const srcDir = dirname(fileURLToPath(import.meta.url));

/** Every module specifier imported (statically) by `file`, and by the relative modules it reaches. */
function importGraph(file: string, seen = new Map<string, string[]>()): Map<string, string[]> {
  if (seen.has(file)) return seen;
  const text = readFileSync(file, 'utf8');
  const specs = [
    ...text.matchAll(/^\s*(?:import|export)[^'"]*from\s+'([^']+)'|^\s*import\s+'([^']+)'/gm),
  ].map((m) => m[1] ?? m[2]);
  seen.set(file, specs);
  for (const s of specs)
    if (s.startsWith('.')) importGraph(resolve(dirname(file), s.replace(/\.js$/, '.ts')), seen);
  return seen;
}

describe('entry points', () => {
  it('keeps the root entry free of Node-only imports (the browser path)', () => {
    const graph = importGraph(join(srcDir, 'index.ts'));
    const offenders = [...graph].flatMap(([file, specs]) =>
      specs
        .filter((s) => s.startsWith('node:') || ['fs', 'path', 'pngjs', 'jpeg-js'].includes(s))
        .map((s) => `${file}: ${s}`),
    );
    expect(offenders).toEqual([]);
    expect([...graph.keys()].some((f) => f.includes(`${join('src', 'node')}`))).toBe(false);
  });

  it('exposes the node entry in the exports map', () => {
    const pkg = JSON.parse(readFileSync(join(srcDir, '..', 'package.json'), 'utf8'));
    expect(pkg.exports['./node']['@pumer/source']).toBe('./src/node.ts');
    expect(pkg.files).toContain('assets');
  });
});
