import { afterEach, describe, expect, it } from 'vitest';
import type { Backend } from './contracts.js';
import { BackendError } from './errors.js';
import {
  disposeBackends,
  findBackend,
  getBackend,
  listBackends,
  ready,
  registerBackend,
  removeBackend,
  setBackend,
} from './registry.js';

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
