import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseProviderRequest, SWIFTSHADER_ICD } from '../src/index.js';

const PROBE = fileURLToPath(new URL('./fixtures/provider-probe.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../../node_modules/tsx/dist/cli.mjs', import.meta.url));

interface ProbeResult {
  ok: boolean;
  info?: { name: string; provider: string; requested?: string; fallbackReason?: string; notes?: string[] };
  rows?: number;
  code?: string;
  message?: string;
}

/** Runs the probe in a fresh process (WebGPU is set up once per process), with `env` on top of ours. */
function probe(provider: string, env: Record<string, string>): Promise<ProbeResult> {
  return new Promise((ok, fail) => {
    execFile(
      process.execPath,
      [TSX, '--conditions=@pumer/source', PROBE, provider],
      { env: { ...process.env, ...env }, timeout: 120_000 },
      (err, stdout) => {
        const line = stdout.split('\n').find((l) => l.startsWith('{'));
        if (!line) return fail(err ?? new Error(`probe printed nothing: ${stdout}`));
        ok(JSON.parse(line) as ProbeResult);
      },
    );
  });
}

// Pointing Vulkan at a missing driver file leaves Dawn without an adapter: what a machine without a GPU
// driver (and without SwiftShader) looks like.
const NO_DRIVER = { VK_ICD_FILENAMES: '/nonexistent/vk_icd.json' };

describe('provider choice', () => {
  it('auto falls back to wasm without a WebGPU adapter and says why, with the install command', async () => {
    const r = await probe('auto', NO_DRIVER);
    expect(r.ok).toBe(true);
    expect(r.rows).toBe(2);
    expect(r.info).toMatchObject({ name: 'webgpu', provider: 'wasm', requested: 'auto' });
    expect(r.info!.fallbackReason).toContain('no WebGPU adapter');
    expect(r.info!.fallbackReason).toContain('apt-get install -y chromium libvulkan1');
  }, 150_000);

  it('webgpu without an adapter is a BackendError, not a silent fallback', async () => {
    const r = await probe('webgpu', NO_DRIVER);
    expect(r.ok).toBe(false);
    expect(r.code).toBe('BACKEND');
    expect(r.message).toContain('provider "webgpu" requested but no WebGPU adapter');
  }, 150_000);

  it('auto finds SwiftShader by itself when VK_ICD_FILENAMES is unset, and reports it', async () => {
    const env = { ...process.env } as Record<string, string>;
    delete env['VK_ICD_FILENAMES'];
    const r = await new Promise<ProbeResult>((ok, fail) => {
      execFile(
        process.execPath,
        [TSX, '--conditions=@pumer/source', PROBE, 'auto'],
        { env, timeout: 120_000 },
        (err, stdout) => {
          const line = stdout.split('\n').find((l) => l.startsWith('{'));
          if (!line) return fail(err ?? new Error(stdout));
          ok(JSON.parse(line) as ProbeResult);
        },
      );
    });
    expect(r.ok).toBe(true);
    expect(r.info).toMatchObject({ provider: 'webgpu' });
    expect(r.info!.fallbackReason).toBeUndefined();
    expect(r.info!.notes).toContain(`VK_ICD_FILENAMES=${SWIFTSHADER_ICD} (SwiftShader, set automatically)`);
  }, 150_000);

  it('parses PUMER_WEBGPU_PROVIDER values and rejects others by name', () => {
    expect(parseProviderRequest(undefined, 'X')).toBe('auto');
    expect(parseProviderRequest(' WebGPU ', 'X')).toBe('webgpu');
    expect(parseProviderRequest('wasm', 'X')).toBe('wasm');
    expect(() => parseProviderRequest('cuda', 'PUMER_WEBGPU_PROVIDER')).toThrow(
      /PUMER_WEBGPU_PROVIDER must be one of auto, webgpu, wasm; got "cuda"/,
    );
  });
});
