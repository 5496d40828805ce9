import { describe, expect, it } from 'vitest';
import { createProgram } from './program.js';
import { captureIO, runCli } from './testing.js';

/** Every error is exactly one line on stderr, prefixed `pumer: error:`, and nothing on stdout. */
function expectOneLineError(r: { code: number; stdout: string; stderr: string }, pattern: RegExp) {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^pumer: error: /);
  expect(lines[0]).toMatch(pattern);
}

describe('usage errors: one line, exit 2', () => {
  it.each([
    [['schedule', '--bogus'], /unknown option '--bogus'/],
    [['run', '--no-such-flag'], /unknown option/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['schedule', '--prune', '1.5'], /ratio must be in \[0, 1\)/],
    [['schedule', '--merge', '-0.1'], /--merge/],
    [['schedule', '--text-merge', 'abc'], /not a number/],
    // --text is the text input of run; the text-merge ratio is --text-merge everywhere.
    [['schedule', '--text', '0.2'], /unknown option '--text'/],
    [['schedule', '--layers', '2,x'], /comma-separated/],
    // The built-ins first, then whatever else core registers, `model` last.
    [
      ['schedule', '--schedule', 'fastest'],
      /expected one of unreduced, none, off, paper, pumer, aggressive, (.+, )?model\.$/,
    ],
    [['schedule', '--geometry', 'huge'], /unknown geometry "huge"/],
    [['schedule', '--saliency', 'best'], /first_head/],
    [['eval', '--data', 'x.jsonl'], /required option '--model <dir>'/],
    [['bench', '--backend', 'tpu'], /unknown backend "tpu" \(expected one of auto, node, webgpu, cpu\)/],
    [['bench', '--schedules', 'unreduced,fastest'], /unknown schedule "fastest"/],
    [['bench', '--repeats', '0'], /positive integer/],
    [['run', '--backend', 'gpu'], /--backend/],
  ])('%j', async (argv, pattern) => {
    expectOneLineError(await runCli(argv), pattern);
  });

  it('reports a schedule whose layers exceed the model', async () => {
    expectOneLineError(
      await runCli(['schedule', '--geometry', 'tiny', '--layers', '1,7', '--prune', '0.1']),
      /reduceLayers layer 7 is out of range \(must be in \[0, 5\]\)/,
    );
  });
});

describe('--help', () => {
  const program = createProgram(captureIO());
  for (const cmd of program.commands) {
    it(`pumer ${cmd.name()} --help lists every flag`, async () => {
      const r = await runCli([cmd.name(), '--help']);
      expect(r.code).toBe(0);
      expect(cmd.options.length).toBeGreaterThan(1);
      for (const opt of cmd.options) expect(r.stdout).toContain(opt.long!);
      expect(r.stdout).toContain('--json');
    });
  }

  it('pumer --help lists every command', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const name of ['run', 'eval', 'bench', 'parity', 'schedule', 'convert', 'export'])
      expect(r.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
  });

  it('pumer --version prints the package version', async () => {
    const { version } = (await import('../package.json')).default;
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });
});
