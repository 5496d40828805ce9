import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { BackendError, disposeBackends, listBackends, setBackend } from '@pumer/core';
import { describe, expect, it } from 'vitest';
import { createNodeBackend } from './backend.js';
import { chooseProvider, cudaUnavailableReason, ortNativeDir, parseProviderRequest } from './provider.js';

// This machine has no GPU and no CUDA provider library: these tests pin the fallback behaviour.
const cudaLibrary = join(ortNativeDir(), 'libonnxruntime_providers_cuda.so');
const noCuda = !existsSync(cudaLibrary);

describe('execution provider selection', () => {
  it.runIf(noCuda)('auto runs on cpu here and says why', async () => {
    const backend = await createNodeBackend({ provider: 'auto' });
    const info = backend.info();
    expect(info.provider).toBe('cpu');
    expect(info.requested).toBe('auto');
    expect(info.fallbackReason).toMatch(/CUDA provider library is not installed/);
    await backend.dispose();
  });

  it.runIf(noCuda)('cuda fails with the install hint', async () => {
    const err = await createNodeBackend({ provider: 'cuda' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    const msg = (err as Error).message;
    expect(msg).toContain('--onnxruntime-node-install=cuda12');
    expect(msg).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12');
    expect(msg).toContain('install script');
  });

  it('cpu is cpu, with nothing to report', async () => {
    const choice = await chooseProvider('cpu');
    expect(choice).toEqual({ provider: 'cpu', requested: 'cpu' });
    const backend = await createNodeBackend({ provider: 'cpu' });
    expect(backend.info()).toEqual({ name: 'node', provider: 'cpu' });
    await backend.dispose();
  });

  it.runIf(noCuda)('reports the missing library path', async () => {
    expect(await cudaUnavailableReason()).toContain(cudaLibrary);
  });

  it('uses full graph optimisation, every core, and stops spinning after a run', async () => {
    const backend = await createNodeBackend({ provider: 'cpu' });
    const opts = backend.sessionOptions();
    expect(opts.graphOptimizationLevel).toBe('all');
    expect(opts.intraOpNumThreads).toBe(availableParallelism());
    expect(opts.executionProviders).toEqual(['cpu']);
    expect(opts.extra).toEqual({ session: { intra_op: { allow_spinning: '1' }, force_spinning_stop: '1' } });
    await backend.dispose();
  });

  it('parses PUMER_NODE_PROVIDER', () => {
    expect(parseProviderRequest(undefined, 'env')).toBe('auto');
    expect(parseProviderRequest(' CPU ', 'env')).toBe('cpu');
    expect(parseProviderRequest('cuda', 'env')).toBe('cuda');
    expect(() => parseProviderRequest('gpu', 'PUMER_NODE_PROVIDER')).toThrow(
      /PUMER_NODE_PROVIDER must be one of auto, cuda, cpu/,
    );
  });

  it('registers as "node" on import, honouring PUMER_NODE_PROVIDER', async () => {
    const saved = process.env['PUMER_NODE_PROVIDER'];
    process.env['PUMER_NODE_PROVIDER'] = 'cpu';
    try {
      await import('./index.js'); // first import in this file: registers with the env's provider
      expect(listBackends().find((b) => b.name === 'node')?.priority).toBe(2);
      const backend = await setBackend('node');
      expect(backend.info()).toEqual({ name: 'node', provider: 'cpu' });
      await disposeBackends();
    } finally {
      if (saved === undefined) delete process.env['PUMER_NODE_PROVIDER'];
      else process.env['PUMER_NODE_PROVIDER'] = saved;
    }
  });
});
