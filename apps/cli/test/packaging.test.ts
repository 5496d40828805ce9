import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { installedProject, PACKAGES, sh } from './installed-project.js';
import { ROOT } from './readme-blocks.js';

/**
 * The published shape: the project the install block of docs/install.md makes, run as written (pnpm packs
 * every publishable package, rewriting workspace:^ ranges; plain npm installs the tarballs into `npm init -y`'s
 * project, onnxruntime-node's install script told what the README tells it), used the way a user would. Needs
 * the dist/ of every package (`npx pnpm@10.34.8 build` first). The project is shared with the README examples.
 */

let scratch = '';

beforeAll(async () => {
  scratch = await installedProject();
}, 600_000);

describe('installed from the npm tarballs', () => {
  it('the install block installed the ten packages from their tarballs, with no CUDA download', () => {
    const names = PACKAGES.map(
      (pkg) => JSON.parse(readFileSync(path.join(ROOT, pkg, 'package.json'), 'utf8')).name as string,
    );
    const manifest = JSON.parse(readFileSync(path.join(scratch, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(manifest.dependencies).sort()).toEqual([...names].sort());
    for (const spec of Object.values(manifest.dependencies)) expect(spec).toMatch(/^file:\.\.\/tarballs\//);
    // ONNXRUNTIME_NODE_INSTALL=skip: the script left onnxruntime-node with its CPU provider only.
    const bin = path.join(
      scratch,
      'node_modules/onnxruntime-node/bin/napi-v6',
      process.platform,
      process.arch,
    );
    expect(existsSync(path.join(bin, 'onnxruntime_binding.node'))).toBe(true);
    expect(existsSync(path.join(bin, 'libonnxruntime_providers_cuda.so'))).toBe(false);
  });

  it('pnpm pack rewrote every workspace: range', () => {
    for (const pkg of PACKAGES) {
      const name = JSON.parse(readFileSync(path.join(ROOT, pkg, 'package.json'), 'utf8')).name as string;
      const manifest = readFileSync(path.join(scratch, 'node_modules', name, 'package.json'), 'utf8');
      expect(manifest, name).not.toContain('workspace:');
    }
  });

  it('npx pumer run answers from the embedded model', () => {
    const image = path.join(scratch, 'node_modules/@pumer/vilt/assets/images/circles-count.png');
    expect(existsSync(image)).toBe(true);
    const questions = JSON.parse(readFileSync(path.join(path.dirname(image), 'questions.json'), 'utf8')) as {
      image: string;
      answer: string;
    }[];
    const expected = questions.find((q) => q.image === 'circles-count.png')!.answer;
    const out = sh(
      'npx',
      [
        '--no-install',
        'pumer',
        'run',
        '--image',
        image,
        '--question',
        'how many circles are there?',
        '--json',
      ],
      scratch,
    );
    const result = JSON.parse(out) as { answer: string; model: string; backend: { name: string } };
    expect(result.answer).toBe(expected);
    expect(result.model).toContain(path.join('node_modules', '@pumer', 'vilt', 'assets'));
    // auto, the default: onnxruntime-node's CPU provider (no CUDA here).
    expect(result.backend).toMatchObject({ name: 'node', reason: expect.stringMatching(/^auto: /) });
    // And the human-readable form, with no arguments at all (the README's main command).
    const plain = sh('npx', ['--no-install', 'pumer'], scratch);
    expect(plain).toMatch(/question how many circles are there\?/);
    expect(plain).toMatch(/answer\s+\S+/);
  }, 60_000);

  it('@pumer/pumer from require() and import: node and cpu registered, auto runs on node', () => {
    const probe =
      'console.log(JSON.stringify({ backends: P.listBackends().map((b) => b.name), pipeline: typeof P.createVqaPipeline, loader: typeof L.loadBackend }));';
    const cjs = sh(
      'node',
      ['-e', `const P = require('@pumer/pumer'); const L = require('@pumer/pumer/loaders'); ${probe}`],
      scratch,
    );
    const esm = sh(
      'node',
      [
        '--input-type=module',
        '-e',
        `import * as P from '@pumer/pumer'; import * as L from '@pumer/pumer/loaders'; ${probe} console.log(JSON.stringify({ auto: (await P.ready()).info().name }));`,
      ],
      scratch,
    );
    expect(JSON.parse(cjs.trim())).toEqual({
      backends: ['node', 'cpu'],
      pipeline: 'function',
      loader: 'function',
    });
    const [listing, auto] = esm
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'));
    expect(JSON.parse(listing!)).toEqual({
      backends: ['node', 'cpu'],
      pipeline: 'function',
      loader: 'function',
    });
    expect(JSON.parse(auto!)).toEqual({ auto: 'node' });
  }, 60_000);

  it.each(['@pumer/core', '@pumer/backend-cpu'])(
    '%s works from require() and import',
    (name) => {
      // Importing a backend registers it with core's registry; core alone registers nothing.
      const probe =
        'console.log(JSON.stringify({ exports: Object.keys(M).length, entry: typeof (M.createCpuBackend ?? M.schedule), schedule: typeof C.schedule, backends: C.listBackends().map((b) => b.name) }));';
      const cjs = sh(
        'node',
        ['-e', `const M = require('${name}'); const C = require('@pumer/core'); ${probe}`],
        scratch,
      );
      const esm = sh(
        'node',
        [
          '--input-type=module',
          '-e',
          `import * as M from '${name}'; import * as C from '@pumer/core'; ${probe}`,
        ],
        scratch,
      );
      for (const out of [cjs, esm]) {
        const r = JSON.parse(out.trim()) as {
          exports: number;
          entry: string;
          schedule: string;
          backends: string[];
        };
        // backend-cpu exports its factory and the kernels namespace; core, much more.
        expect(r.exports).toBeGreaterThanOrEqual(name === '@pumer/backend-cpu' ? 2 : 10);
        expect(r.entry).toBe('function');
        expect(r.schedule).toBe('function');
        expect(r.backends).toEqual(name === '@pumer/backend-cpu' ? ['cpu'] : []);
      }
    },
    60_000,
  );
});
