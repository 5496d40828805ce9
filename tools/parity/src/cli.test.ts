import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';

// Each case spawns tsx (a few seconds on a busy 2-core machine).
vi.setConfig({ testTimeout: 120_000 });
import { goldenDir, meterGoldenDir, meterModelDir } from '@pumer/testkit/node';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..', '..');
const tsx = join(repoRoot, 'node_modules', '.bin', 'tsx');
const main = join(here, 'main.ts');

function runCli(args: string[]) {
  const res = spawnSync(tsx, ['--conditions=@pumer/source', main, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

describe('parity CLI', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'pumer-parity-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('prints one line per case and the closing count, exit 1 when a file is corrupted', () => {
    const dir = join(tmp, 'mixed');
    mkdirSync(dir);
    copyFileSync(join(goldenDir(), 'tome_B1_N9_r3_cls1.json'), join(dir, 'a_good.json'));
    writeFileSync(
      join(dir, 'b_corrupt.json'),
      '{"format": "pumer-golden/1", "kind": "tip_merge", "inputs": {',
    );
    const { code, stdout } = runCli(['--golden', dir, '--backend', 'cpu']);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^tome_B1_N9_r3_cls1 {2}max_abs_err=\S+ {2}PASS$/);
    expect(lines[1]).toMatch(/^b_corrupt {2}max_abs_err=nan {2}FAIL malformed golden file: invalid JSON/);
    expect(lines[2]).toBe('1 passed, 1 failed');
    expect(code).toBe(1);
  });

  it('exits 0 when every case passes', () => {
    const dir = join(tmp, 'good');
    mkdirSync(dir);
    copyFileSync(join(goldenDir(), 'tip_B1_N10_r3.json'), join(dir, 'tip.json'));
    const { code, stdout } = runCli(['--golden', dir]);
    expect(stdout.trim().split('\n').at(-1)).toBe('1 passed, 0 failed');
    expect(code).toBe(0);
  });

  it('exits 2 with a clear message on a missing or empty directory', () => {
    const missing = runCli(['--golden', join(tmp, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read golden directory .*nope/);
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    const res = runCli(['--golden', empty]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/holds no \.json files/);
  });

  it('exits 2 on usage errors: an unknown option or backend', () => {
    const bad = runCli(['--bogus']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/usage: pnpm parity/);
    const unknown = runCli(['--backend', 'tpu']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown backend "tpu"/);
  });

  it("runs METER's golden files beside ViLT's and a METER model's cases; a bad cases.json fails its cases", () => {
    const dir = join(tmp, 'meter');
    mkdirSync(dir);
    copyFileSync(join(meterGoldenDir(), 'meter_cross0_p0.2_r0.2_t0.2_B2_T12_I17.json'), join(dir, 'm.json'));
    copyFileSync(join(goldenDir(), 'tip_B1_N10_r3.json'), join(dir, 'tip.json'));
    const model = join(tmp, 'tiny-meter-ve');
    mkdirSync(model);
    for (const f of ['config.json', 'text_config.json', 'pytorch_model.bin'])
      copyFileSync(join(meterModelDir('tiny-meter-ve'), f), join(model, f));
    writeFileSync(join(model, 'cases.json'), '{"format": "pumer-golden/1", "kind": "meter_model_cases"}');
    const { code, stdout } = runCli([
      '--golden',
      dir,
      '--model',
      `${meterModelDir('tiny-meter-vqa')},${model}`,
    ]);
    const lines = stdout.trim().split('\n');
    expect(lines.slice(0, 4)).toEqual([
      expect.stringMatching(/^meter_cross0_p0\.2_r0\.2_t0\.2_B2_T12_I17 {2}max_abs_err=\S+ {2}PASS$/),
      expect.stringMatching(/^tip_B1_N10_r3 {2}max_abs_err=\S+ {2}PASS$/),
      expect.stringMatching(/^tiny-meter-vqa reduced {2}max_abs_err=\S+ {2}PASS$/),
      expect.stringMatching(/^tiny-meter-vqa unreduced {2}max_abs_err=\S+ {2}PASS$/),
    ]);
    expect(lines[4]).toMatch(/^tiny-meter-ve reduced {2}max_abs_err=nan {2}FAIL malformed cases\.json: /);
    expect(lines[5]).toMatch(/^tiny-meter-ve unreduced {2}max_abs_err=nan {2}FAIL malformed cases\.json: /);
    expect(lines[6]).toBe('4 passed, 2 failed');
    expect(code).toBe(1);
  });

  it('exits 2 for a model directory without cases.json', () => {
    const res = runCli(['--model', tmp]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/has no cases\.json/);
  });
});
