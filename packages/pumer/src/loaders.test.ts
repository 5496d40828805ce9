import { activeBackend, BackendError, disposeBackends, listBackends } from '@pumer/core';
import { afterEach, describe, expect, it } from 'vitest';
import { autoBackendNames, importBackend, loadBackend } from './loaders.js';

afterEach(() => disposeBackends());

describe('loadBackend', () => {
  it('imports the package of a backend on demand, makes it active and returns it initialised', async () => {
    expect(listBackends().some((b) => b.name === 'cpu')).toBe(false);
    const cpu = await loadBackend('cpu');
    expect(cpu.info()).toMatchObject({ name: 'cpu', provider: 'typescript' });
    expect(activeBackend()).toEqual({ name: 'cpu', reason: "set by setBackend('cpu')" });
  });

  it('auto in Node loads onnxruntime-node and the CPU reference, and runs on node', async () => {
    expect(autoBackendNames()).toEqual(['node', 'cpu']);
    const backend = await loadBackend('auto');
    expect(backend.info().name).toBe('node');
    expect(listBackends().map((b) => b.name)).toEqual(expect.arrayContaining(['node', 'cpu']));
    expect(activeBackend()).toMatchObject({ name: 'node', reason: expect.stringMatching(/^auto: /) });
  });

  it('rejects a name no package registers, naming the known ones', async () => {
    const error = await importBackend('tpu').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as Error).message).toBe('unknown backend "tpu" (expected auto, node, webgpu, cpu)');
  });
});
