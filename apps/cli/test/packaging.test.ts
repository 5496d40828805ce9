import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The published shape: pack every publishable package with pnpm (which rewrites workspace:^ ranges), install
 * the tarballs with plain npm into a scratch project, and use them the way a user would. Needs the dist/ of
 * every package: `npx turbo run build` from the repo root first. One install serves every check.
 */

const ROOT = path.resolve(import.meta.dirname, '../../..');
const PACKAGES = [
  'packages/core',
  'packages/backend-cpu',
  'packages/vilt',
  'packages/onnx',
  'packages/backend-node',
  'packages/backend-webgpu',
  'packages/pumer',
  'tools/parity',
  'apps/cli',
];
const PNPM = ['-y', 'pnpm@10.34.8'];

const env = {
  ...process.env,
  ONNXRUNTIME_NODE_INSTALL: 'skip',
  npm_config_ignore_scripts: 'true',
  npm_config_fund: 'false',
  npm_config_audit: 'false',
  npm_config_update_notifier: 'false',
  NO_COLOR: '1',
};

function sh(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, {
      cwd,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 << 20,
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${cmd} ${args.join(' ')} (in ${cwd}) failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`,
    );
  }
}

/** Newest modification time of the non-test sources under `dir`. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || /\.test\.ts$/.test(entry.name)) continue;
    newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

let tmp = '';
let scratch = '';

beforeAll(() => {
  for (const pkg of PACKAGES) {
    const dist = path.join(ROOT, pkg, 'dist');
    const build = `run \`npx turbo run build\` in ${ROOT} first (turbo needs pnpm on PATH; \`npm test\` does it for you)`;
    // The umbrella has no index: its entries are node, browser and loaders.
    const entry = path.join(dist, pkg === 'packages/pumer' ? 'node.js' : 'index.js');
    if (!existsSync(entry)) throw new Error(`${pkg}/dist is missing: ${build}`);
    // A stale dist would test yesterday's code: the packed tarball must be what the sources say.
    if (newestSource(path.join(ROOT, pkg, 'src')) > statSync(entry).mtimeMs) {
      throw new Error(`${pkg}/dist is older than its src/: ${build}`);
    }
  }
  tmp = mkdtempSync(path.join(os.tmpdir(), 'pumer-pack-'));
  const tarballs = path.join(tmp, 'tarballs');
  mkdirSync(tarballs);
  for (const pkg of PACKAGES)
    sh('npx', [...PNPM, 'pack', '--pack-destination', tarballs], path.join(ROOT, pkg));
  scratch = path.join(tmp, 'scratch');
  mkdirSync(scratch);
  writeFileSync(
    path.join(scratch, 'package.json'),
    JSON.stringify({ name: 'pumer-scratch', private: true, version: '0.0.0' }),
  );
  const files = readdirSync(tarballs).map((f) => path.join(tarballs, f));
  expect(files).toHaveLength(PACKAGES.length);
  // Every tarball on one command line: npm places them at the top and reuses them for the @pumer/* ranges.
  sh('npm', ['install', '--no-package-lock', '--prefer-offline', ...files], scratch);
}, 600_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('installed from the npm tarballs', () => {
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
