import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The fenced code blocks of the user-facing READMEs and their conventions (docs/install.md, "How the READMEs
 * are tested"): ```sh install is the install block, ```js file=NAME.mjs an example to run, `// → TEXT` a line
 * it prints.
 */

export const ROOT = path.resolve(import.meta.dirname, '../../..');

/** Every README a user reads before installing, and the install guide. */
export const READMES = [
  'README.md',
  'docs/install.md',
  'packages/core/README.md',
  'packages/backend-cpu/README.md',
  'packages/backend-node/README.md',
  'packages/backend-webgpu/README.md',
  'packages/onnx/README.md',
  'packages/vilt/README.md',
  'packages/meter/README.md',
  'packages/pumer/README.md',
  'tools/parity/README.md',
  'apps/cli/README.md',
];

/** The READMEs of the published packages: each repeats the install block. */
export const PACKAGE_READMES = READMES.filter((f) => f !== 'README.md' && !f.startsWith('docs/'));

export interface CodeBlock {
  readonly readme: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly lang: string;
  /** The info string after the language, e.g. `install` or `file=quickstart.mjs`. */
  readonly meta: string;
  readonly code: string;
}

export function codeBlocks(readme: string): CodeBlock[] {
  const lines = readFileSync(path.join(ROOT, readme), 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    if (i === lines.length) throw new Error(`${readme}:${start + 1}: code block never closed`);
    blocks.push({
      readme,
      line: start + 1,
      lang: open[1]!,
      meta: open[2]!.trim(),
      code: `${body.join('\n')}\n`,
    });
  }
  return blocks;
}

export function installBlocks(readme: string): CodeBlock[] {
  return codeBlocks(readme).filter((b) => b.lang === 'sh' && b.meta === 'install');
}

/** The file an example block is saved as (`file=NAME.mjs`), or null for a block that is only parsed. */
export function exampleFile(block: CodeBlock): string | null {
  return /(?:^|\s)file=(\S+)/.exec(block.meta)?.[1] ?? null;
}

/** The lines an example says it prints (`// → TEXT`), as patterns in which `…` matches anything. */
export function expectedOutput(code: string): RegExp[] {
  const out: RegExp[] = [];
  for (const line of code.split('\n')) {
    const m = /\/\/ → (.*)$/.exec(line);
    if (!m) continue;
    const pattern = m[1]!
      .trimEnd()
      .split('…')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    out.push(new RegExp(`^${pattern}$`));
  }
  return out;
}

/** The expected lines that `stdout` does not print in order (none: it prints them all). */
export function missingOutput(expected: readonly RegExp[], stdout: string): RegExp[] {
  const printed = stdout.split('\n').map((l) => l.trimEnd());
  let at = 0;
  const missing: RegExp[] = [];
  for (const want of expected) {
    const found = printed.findIndex((l, i) => i >= at && want.test(l));
    if (found < 0) missing.push(want);
    else at = found + 1;
  }
  return missing;
}
