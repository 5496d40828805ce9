import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  checkpointDir,
  evalSetPath,
  goldenDir,
  METER_MODELS,
  MODEL_CHECKPOINTS,
  meterGoldenDir,
  meterModelDir,
  readMeterModelCases,
} from '@pumer/testkit/node';
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

describe('METER parity', () => {
  const METER_GOLDEN = meterGoldenDir();

  it('--golden accepts a directory of METER golden files: every case passes on cpu', async () => {
    const r = await runCli(['parity', '--backend', 'cpu', '--golden', METER_GOLDEN]);
    const n = readdirSync(METER_GOLDEN).filter((f) => f.endsWith('.json')).length;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^meter_cross0_p0\.2_r0\.2_t0\.2_B2_T12_I17 {2}max_abs_err=\S+ {2}PASS$/m);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(`${n} passed, 0 failed`);
  });

  it('--model runs each tiny model with the schedule on and off; --json has the logits beside the error', async () => {
    const dirs = METER_MODELS.map(meterModelDir);
    const r = await runCli(['parity', '--backend', 'cpu', '--model', dirs.join(','), '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({ golden: null, models: [], meterModels: dirs, passed: 6, failed: 0 });
    expect(json.cases.map((c: { name: string }) => c.name)).toEqual(
      METER_MODELS.flatMap((m) => [`${m} reduced`, `${m} unreduced`]),
    );
    for (const [i, name] of METER_MODELS.entries()) {
      const want = readMeterModelCases(name);
      for (const [k, run] of (['reduced', 'unreduced'] as const).entries()) {
        const c = json.cases[2 * i + k];
        expect(c.suite).toBe('meter-model');
        expect(c.maxAbsErr).toBeLessThanOrEqual(1e-4);
        const logits = want[run].logits;
        expect([c.logits.length, c.logits[0].length]).toEqual(logits.shape);
        const flat = c.logits.flat() as number[];
        const worst = Math.max(...flat.map((v, j) => Math.abs(v - logits.data[j]!)));
        expect(worst).toBeLessThanOrEqual(1e-4);
        expect(c.tokens).toEqual(
          want[run].passes.map((steps) => steps.map((s) => [s.textTokens, s.imageTokens])),
        );
      }
    }
    expect(json.cases[0].tokens).toEqual([
      [
        [13, 11],
        [10, 7],
      ],
    ]);
  });

  it('text output: one line per case, the count line; a corrupted cases.json fails both runs, exit 1', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pumer-meter-'));
    const model = path.join(dir, 'broken-meter');
    mkdirSync(model);
    for (const f of ['config.json', 'text_config.json', 'pytorch_model.bin'])
      copyFileSync(path.join(meterModelDir('tiny-meter-vqa'), f), path.join(model, f));
    writeFileSync(
      path.join(model, 'cases.json'),
      '{"format": "pumer-golden/1", "kind": "meter_model_cases",',
    );
    const r = await runCli(['parity', '--model', `${meterModelDir('tiny-meter-nlvr2')},${model}`]);
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.filter((l) => / (PASS|FAIL)/.test(l))).toEqual([
      expect.stringMatching(/^tiny-meter-nlvr2 reduced {2}max_abs_err=\S+ {2}PASS$/),
      expect.stringMatching(/^tiny-meter-nlvr2 unreduced {2}max_abs_err=\S+ {2}PASS$/),
      expect.stringMatching(
        /^broken-meter reduced {2}max_abs_err=nan {2}FAIL malformed cases\.json: invalid JSON/,
      ),
      expect.stringMatching(
        /^broken-meter unreduced {2}max_abs_err=nan {2}FAIL malformed cases\.json: invalid JSON/,
      ),
    ]);
    expect(lines.at(-1)).toBe('2 passed, 2 failed');
    expect(r.stderr).toBe('pumer: error: parity: 2 case(s) failed\n');
  });

  it('a corrupted METER golden file fails its case; a folder without cases.json or missing is exit 2', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pumer-meter-golden-'));
    const good = readdirSync(METER_GOLDEN).find((f) => f.startsWith('meter_cross5'))!;
    copyFileSync(path.join(METER_GOLDEN, good), path.join(dir, good));
    writeFileSync(
      path.join(dir, 'meter_broken.json'),
      '{"format": "pumer-golden/1", "kind": "meter_cross_layer"}',
    );
    const r = await runCli(['parity', '--backend', 'cpu', '--golden', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^meter_broken {2}max_abs_err=nan {2}FAIL malformed golden file: /m);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('1 passed, 1 failed');
    const noCases = await runCli(['parity', '--model', dir]);
    expect(noCases.code).toBe(2);
    expect(noCases.stderr).toBe(`pumer: error: ${dir} has no cases.json\n`);
    const missing = await runCli(['parity', '--model', '/nonexistent/meter']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('pumer: error: model directory not found: /nonexistent/meter\n');
  });

  it('--backend node: the tiny VQA model passes with the schedule on and off', async () => {
    const r = await runCli([
      'parity',
      '--backend',
      'node',
      '--model',
      meterModelDir('tiny-meter-vqa'),
      '--json',
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.backend.name).toBe('node');
    expect(json.cases.map((c: { passed: boolean }) => c.passed)).toEqual([true, true]);
  }, 120_000);
});
