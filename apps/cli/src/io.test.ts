import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundledImages } from '@pumer/vilt/node';
import { describe, expect, it } from 'vitest';
import { callerDirectory } from './io.js';
import { runCli } from './testing.js';

const ESC = '\u001b[';

describe('colours', () => {
  it('are off when output is not a terminal', async () => {
    const r = await runCli(['schedule']);
    expect(r.stdout).not.toContain(ESC);
  });

  it('FORCE_COLOR turns them on, NO_COLOR wins over it', async () => {
    expect((await runCli(['schedule'], { env: { FORCE_COLOR: '1' } })).stdout).toContain(ESC);
    expect((await runCli(['schedule'], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } })).stdout).not.toContain(
      ESC,
    );
  });

  it('--json output is never coloured', async () => {
    const r = await runCli(['schedule', '--json'], { env: { FORCE_COLOR: '1' } });
    expect(r.stdout).not.toContain(ESC);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
  });
});

describe('relative paths', () => {
  it('resolve against INIT_CWD when a package manager set it, else against the working directory', () => {
    expect(callerDirectory({ INIT_CWD: '/home/me/photos' }, '/repo')).toBe('/home/me/photos');
    expect(callerDirectory({}, '/repo')).toBe('/repo');
    expect(callerDirectory({ INIT_CWD: '' }, '/repo')).toBe('/repo');
  });

  it('pnpm pumer run --image rel.png: the bin reads the image from the caller’s directory, not the root', () => {
    // What `pnpm pumer …` does: start the script in the workspace root with the caller's directory in INIT_CWD.
    const caller = mkdtempSync(path.join(os.tmpdir(), 'pumer-caller-'));
    mkdirSync(path.join(caller, 'photos'));
    const image = bundledImages()[0]!;
    copyFileSync(image.path, path.join(caller, 'photos', 'shapes.png'));
    const root = path.resolve(import.meta.dirname, '../../..');
    const bin = path.join(import.meta.dirname, 'bin.ts');
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@pumer/source',
        bin,
        'run',
        '--image',
        'photos/shapes.png',
        '--backend',
        'cpu',
        '--json',
      ],
      { encoding: 'utf8', timeout: 60_000, cwd: root, env: { ...process.env, INIT_CWD: caller } },
    );
    expect(JSON.parse(out).image).toBe(path.join(caller, 'photos', 'shapes.png'));
  });
});
