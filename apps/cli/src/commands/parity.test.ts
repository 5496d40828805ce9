import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkpointDir, evalSetPath, goldenDir, MODEL_CHECKPOINTS } from '@pumer/testkit/node';
import { describe, expect, it } from 'vitest';
import { runCli } from '../testing.js';

const GOLDEN = goldenDir();

describe('pumer parity', () => {
  it('golden parity on cpu passes every case and closes with the count line', async () => {
    const r = await runCli(['parity', '--backend', 'cpu', '--golden', GOLDEN]);
    const n = readdirSync(GOLDEN).filter((f) => f.endsWith('.json')).length;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(`${n} passed, 0 failed`);
    expect(r.stdout.match(/ PASS/g)).toHaveLength(n);
  });

  it('a corrupted golden file fails its case: exit 1, the count line says so', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pumer-golden-'));
    const good = readdirSync(GOLDEN).find((f) => f.startsWith('tome_'))!;
    copyFileSync(path.join(GOLDEN, good), path.join(dir, good));
    writeFileSync(path.join(dir, 'broken.json'), '{"format": "pumer-golden/1", "kind": "tome_merge"');
    const r = await runCli(['parity', '--backend', 'cpu', '--golden', dir, '--json']);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout);
    expect(json.passed).toBe(1);
    expect(json.failed).toBe(1);
    expect(r.stderr).toBe('pumer: error: parity: 1 case(s) failed\n');
  });

  it('finds the reference data by itself: $PUMER_SHARED, else ../shared beside the repository', async () => {
    const inRepo = await runCli(['parity', '--backend', 'cpu'], {
      cwd: import.meta.dirname,
      env: { PUMER_SHARED: process.env['PUMER_SHARED'] },
    });
    expect(inRepo.code, inRepo.stderr).toBe(0);
    expect(inRepo.stdout).toContain(`golden vectors (${GOLDEN})`);
    const elsewhere = mkdtempSync(path.join(os.tmpdir(), 'pumer-shared-'));
    const r = await runCli(['parity', '--backend', 'cpu'], { env: { PUMER_SHARED: elsewhere } });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`pumer: error: golden directory not found: ${path.join(elsewhere, 'golden')}\n`);
  });

  it('a missing golden directory is one line, exit 2', async () => {
    const r = await runCli(['parity', '--golden', '/nonexistent/golden']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('pumer: error: golden directory not found: /nonexistent/golden\n');
  });
});

describe('cross-backend model parity', () => {
  const MODELS = MODEL_CHECKPOINTS.map(checkpointDir);
  const DATA = evalSetPath();

  it('pumer parity --backend node: golden and both tiny models x 3 schedules pass against cpu', async () => {
    const r = await runCli([
      'parity',
      '--backend',
      'node',
      '--golden',
      GOLDEN,
      '--models',
      MODELS.join(','),
      '--data',
      DATA,
      '--examples',
      '4',
      '--json',
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.backend.name).toBe('node');
    const model = json.cases.filter((c: { suite: string }) => c.suite === 'model');
    expect(model.map((c: { name: string }) => c.name)).toEqual([
      'tiny-vilt-shapes unreduced',
      'tiny-vilt-shapes pumer',
      'tiny-vilt-shapes aggressive',
      'tiny-vilt-shapes-pumer unreduced',
      'tiny-vilt-shapes-pumer pumer',
      'tiny-vilt-shapes-pumer aggressive',
    ]);
    for (const c of model) expect(c.maxAbsErr).toBeLessThanOrEqual(1e-3);
    expect(json.failed).toBe(0);
  }, 120_000);

  it('runModelParity catches a logit drift and a trace index difference', async () => {
    const { runModelParity } = await import('@pumer/parity');
    const { findBackend } = await import('@pumer/core');
    await import('@pumer/backend-cpu');
    const cpu = await findBackend('cpu');
    // A backend that is the CPU reference with one flaw injected into its output.
    const flawed = (flaw: 'logits' | 'trace') => ({
      ...cpu,
      name: `flawed-${flaw}`,
      info: () => ({ name: `flawed-${flaw}`, provider: 'test' }),
      async runVilt(...args: Parameters<typeof cpu.runVilt>) {
        const out = await cpu.runVilt(...args);
        if (flaw === 'logits') out.logits.data[0]! += 0.01;
        else {
          const layer = out.layers.find((l) => l.keepIdx)!;
          const idx = layer.keepIdx!.data;
          [idx[0], idx[1]] = [idx[1]!, idx[0]!];
        }
        return out;
      },
    });
    const base = {
      reference: cpu,
      models: [MODELS[1]!],
      schedules: ['pumer' as const],
      data: DATA,
      examples: 2,
    };
    const logits = await runModelParity({ ...base, backend: flawed('logits') });
    expect(logits.failed).toBe(1);
    expect(logits.cases[0]!.reason).toMatch(/max \|logit diff\| 1\.00e-2 > 0\.001/);
    const trace = await runModelParity({ ...base, backend: flawed('trace') });
    expect(trace.failed).toBe(1);
    expect(trace.cases[0]!.reason).toMatch(/^layer 1: keepIdx differs at flat index 0/);
    const same = await runModelParity({ ...base, backend: cpu });
    expect(same).toMatchObject({ passed: 1, failed: 0 });
  });
});
