import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { installedProject, sh } from './installed-project.js';
import {
  type CodeBlock,
  codeBlocks,
  exampleFile,
  expectedOutput,
  installBlocks,
  missingOutput,
  PACKAGE_READMES,
  READMES,
} from './readme-blocks.js';

/**
 * Every README example runs as written: the project is made by the README's install block (installed-project.ts),
 * each ```js file=NAME.mjs block is saved there under its name and run with node, and the lines it says it
 * prints (`// → TEXT`) are checked. The conventions are described in docs/install.md.
 */

const blocks = READMES.flatMap((readme) => codeBlocks(readme));
const examples = blocks
  .filter((b) => b.lang === 'js' && exampleFile(b))
  .map((b) => ({ ...b, file: exampleFile(b)! }));
const where = (b: CodeBlock) => `${b.readme}:${b.line}`;

describe('README conventions', () => {
  it('every package README repeats the install block of docs/install.md word for word', () => {
    const [canonical] = installBlocks('docs/install.md');
    expect(canonical).toBeDefined();
    for (const readme of PACKAGE_READMES) {
      const own = installBlocks(readme);
      expect(own.length, `${readme}: one \`\`\`sh install block`).toBe(1);
      expect(own[0]!.code, readme).toBe(canonical!.code);
    }
  });

  it('no TypeScript blocks; every package README runs an example; example files have distinct names', () => {
    expect(blocks.filter((b) => b.lang === 'ts' || b.lang === 'typescript').map(where)).toEqual([]);
    for (const readme of [...PACKAGE_READMES, 'README.md'])
      expect(examples.filter((e) => e.readme === readme).length, readme).toBeGreaterThan(0);
    const names = examples.map((e) => e.file);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
    expect(names.every((n) => n.endsWith('.mjs'))).toBe(true);
  });

  it('every js block parses as an ES module', () => {
    const dir = path.join(inject('pumerScratchRoot'), 'syntax');
    mkdirSync(dir, { recursive: true });
    blocks
      .filter((b) => b.lang === 'js')
      .forEach((b, i) => {
        const file = path.join(dir, `block-${i}.mjs`);
        writeFileSync(file, b.code);
        try {
          sh('node', ['--check', file], dir);
        } catch (err) {
          throw new Error(`${where(b)} does not parse: ${(err as Error).message}`);
        }
      });
  });
});

describe('README examples, in the project installed as the README says', () => {
  let project = '';
  beforeAll(async () => {
    project = await installedProject();
  }, 600_000);

  it.each(examples)(
    '$file ($readme)',
    (example) => {
      writeFileSync(path.join(project, example.file), example.code);
      const stdout = sh('node', [example.file], project, 240_000);
      const missing = missingOutput(expectedOutput(example.code), stdout);
      expect(missing.map(String), `${where(example)} printed:\n${stdout}`).toEqual([]);
    },
    300_000,
  );
});
