import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from './contracts.js';
import { BackendError } from './errors.js';
import {
  disposeBackends,
  activeBackend,
  findBackend,
  getBackend,
  listBackends,
  ready,
  registerBackend,
  removeBackend,
  resolveBackend,
  setBackend,
} from './registry.js';

type CoreModule = typeof import('./index.js');

function fakeBackend(name: string, disposed: string[] = []): Backend {
  const unsupported = async () => {
    throw new BackendError(`${name}: not used in this test`);
  };
  return {
    name,
    info: () => ({ name, provider: 'test' }),
    pruner: { saliency: unsupported, prune: unsupported },
    merger: { merge: unsupported },
    runBlock: unsupported,
    runVilt: unsupported,
    runCoAttentionStep: unsupported,
    runMeter: unsupported,
    dispose: async () => {
      disposed.push(name);
    },
  };
}

afterEach(async () => {
  await disposeBackends();
  for (const b of listBackends()) removeBackend(b.name);
});

describe('backend registry', () => {
  it('switches the active backend at run time', async () => {
    registerBackend('a', () => fakeBackend('a'), 1);
    registerBackend('b', () => fakeBackend('b'), 2);
    await setBackend('a');
    expect(getBackend().name).toBe('a');
    await setBackend('b');
    expect(getBackend().name).toBe('b');
    expect(listBackends().map((b) => [b.name, b.active])).toEqual([
      ['b', true],
      ['a', false],
    ]);
  });

  it('initialises a backend once', async () => {
    let calls = 0;
    registerBackend('once', () => {
      calls++;
      return fakeBackend('once');
    });
    const [x, y] = await Promise.all([findBackend('once'), findBackend('once')]);
    expect(x).toBe(y);
    expect(calls).toBe(1);
  });

  it('names the registered backends when asked for an unknown one', async () => {
    registerBackend('cpu-like', () => fakeBackend('cpu-like'));
    await expect(setBackend('gpu')).rejects.toThrow(/unknown backend "gpu".*cpu-like/);
  });

  it('throws before any backend is active', () => {
    expect(() => getBackend()).toThrow(BackendError);
  });

  it('ready() falls back past a backend that fails to initialise, and reports why a factory failed', async () => {
    registerBackend(
      'broken',
      () => {
        throw new Error('no adapter');
      },
      10,
    );
    registerBackend('fine', () => fakeBackend('fine'), 1);
    expect((await ready()).name).toBe('fine');
    await expect(findBackend('broken')).rejects.toThrow(/broken.*no adapter/);
  });

  it('disposes initialised backends', async () => {
    const disposed: string[] = [];
    registerBackend('d', () => fakeBackend('d', disposed));
    await setBackend('d');
    await disposeBackends();
    expect(disposed).toEqual(['d']);
    expect(() => getBackend()).toThrow(BackendError);
  });
});

describe('auto and the active backend', () => {
  it('auto picks the highest priority, becomes active and says why', async () => {
    registerBackend('low', () => fakeBackend('low'), 1);
    registerBackend('high', () => fakeBackend('high'), 2);
    expect((await resolveBackend()).name).toBe('high');
    expect(activeBackend()).toEqual({
      name: 'high',
      reason: 'auto: the best registered backend of high, low',
    });
    await setBackend('low');
    expect((await resolveBackend()).name).toBe('low');
    expect(activeBackend()?.reason).toBe("set by setBackend('low')");
  });

  it('with nothing registered, names the packages to install', async () => {
    const error = await resolveBackend().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as Error).message).toBe(
      'no backend is registered: install and import @pumer/backend-node (Node), @pumer/backend-webgpu (browsers) or @pumer/backend-cpu (anywhere)',
    );
    await expect(findBackend('node')).rejects.toThrow(/install and import @pumer\/backend-node$/);
  });
});

describe('one registry for every copy of core', () => {
  const coreDir = join(dirname(fileURLToPath(import.meta.url)), '..');
  const cjsPath = join(coreDir, 'dist', 'index.cjs');
  let cjs: CoreModule;
  let esm: CoreModule;

  beforeAll(async () => {
    // The CJS build is a second copy of core's code; build it when missing or older than the registry.
    const source = join(coreDir, 'src', 'registry.ts');
    if (!existsSync(cjsPath) || statSync(cjsPath).mtimeMs < statSync(source).mtimeMs)
      execFileSync('npx', ['tsup'], { cwd: coreDir, stdio: 'ignore' });
    cjs = createRequire(import.meta.url)(cjsPath) as CoreModule;
    esm = await import('@pumer/core');
  }, 120_000);

  it('loads two distinct module copies', () => {
    expect(cjs.registerBackend).not.toBe(esm.registerBackend);
  });

  it('a backend registered through require() is found through import, and the other way round', async () => {
    cjs.registerBackend('from-cjs', () => fakeBackend('from-cjs'), 1);
    expect(esm.listBackends().map((b) => b.name)).toContain('from-cjs');
    expect((await esm.findBackend('from-cjs')).name).toBe('from-cjs');

    esm.registerBackend('from-esm', () => fakeBackend('from-esm'), 2);
    await cjs.setBackend('auto');
    expect(cjs.activeBackend()?.name).toBe('from-esm');
    expect(esm.getBackend().name).toBe('from-esm');
  });
});
