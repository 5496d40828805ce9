import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { findRepoRoot, findSharedDir, hasSharedData, sharedDir, sharedPath } from './shared-data.js';

const repoRoot = resolve(import.meta.dirname, '..', '..', '..');

describe('where the reference data is', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'pumer-testkit-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  afterEach(() => vi.unstubAllEnvs());

  it('finds the repository root by its pnpm-workspace.yaml, from any directory inside it', () => {
    expect(findRepoRoot(import.meta.dirname)).toBe(repoRoot);
    const fake = join(tmp, 'clone');
    mkdirSync(join(fake, 'packages', 'x'), { recursive: true });
    writeFileSync(join(fake, 'pnpm-workspace.yaml'), 'packages: []\n');
    expect(findRepoRoot(join(fake, 'packages', 'x'))).toBe(fake);
    expect(findSharedDir({ from: join(fake, 'packages'), env: {} })).toBe(join(tmp, 'shared'));
  });

  it('defaults to shared/ beside the repository root', () => {
    expect(findSharedDir({ env: {} })).toBe(resolve(repoRoot, '..', 'shared'));
  });

  it('PUMER_SHARED wins over the walk', () => {
    vi.stubEnv('PUMER_SHARED', tmp);
    expect(sharedDir()).toBe(tmp);
    expect(sharedPath('golden', 'a.json')).toBe(join(tmp, 'golden', 'a.json'));
    expect(findSharedDir({ env: { PUMER_SHARED: 'rel/dir' } })).toBe(resolve('rel/dir'));
  });

  it('a missing data set is a skip locally and an error naming the path under CI=true', () => {
    vi.stubEnv('PUMER_SHARED', tmp);
    vi.stubEnv('CI', '');
    expect(hasSharedData('no-such-dir')).toBe(false);
    vi.stubEnv('CI', 'true');
    expect(() => hasSharedData('no-such-dir')).toThrow(
      new RegExp(`reference data missing at ${join(tmp, 'no-such-dir')} \\(CI requires it`),
    );
    mkdirSync(join(tmp, 'there'));
    expect(hasSharedData('there')).toBe(true);
  });
});
