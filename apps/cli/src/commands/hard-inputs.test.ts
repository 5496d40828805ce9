import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { bundledImages, DEFAULT_MAX_PIXELS, defaultModelDir } from '@pumer/vilt/node';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_PIXELS_HELP } from '../program.js';
import { runCli } from '../testing.js';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  let c = 0xffffffff;
  for (const b of body) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0, 8 + data.length);
  return out;
}

/** A PNG of a few hundred bytes whose header claims 20000x20000 RGB pixels (a decompression bomb). */
function writeBomb(dir: string): string {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(20000, 0);
  ihdr.writeUInt32BE(20000, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const file = path.join(dir, 'bomb.png');
  writeFileSync(
    file,
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(Buffer.alloc(64))),
      chunk('IEND', new Uint8Array()),
    ]),
  );
  return file;
}

function oneErrorLine(r: { code: number; stdout: string; stderr: string }): string {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^pumer: error: /);
  return lines[0]!;
}

describe('pumer run / eval on hard inputs', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'pumer-hard-'));
  const bomb = writeBomb(tmp);
  const image = bundledImages()[0]!;

  it('refuses a decompression bomb in one line, exit 2, before loading anything, under 1 s and 200 MB', () => {
    // A child process, so its peak memory is this run's alone.
    const program = path.join(import.meta.dirname, '..', 'program.ts');
    const script = `
      const { main } = await import(${JSON.stringify(program)});
      let stderr = '';
      const io = { out() {}, err: (t) => { stderr += t; }, stdoutIsTTY: false, stderrIsTTY: false, env: {}, cwd: process.cwd() };
      const before = process.resourceUsage().maxRSS;
      const start = performance.now();
      const code = await main(process.argv.slice(1), io);
      const ms = performance.now() - start;
      const usage = process.resourceUsage().maxRSS;
      console.log(JSON.stringify({ code, stderr, ms, maxRssMb: usage / 1024, growthMb: (usage - before) / 1024 }));
    `;
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@pumer/source',
        '--input-type=module',
        '-e',
        script,
        'run',
        '--image',
        bomb,
      ],
      { encoding: 'utf8', timeout: 60_000, cwd: import.meta.dirname },
    );
    const r = JSON.parse(out) as {
      code: number;
      stderr: string;
      ms: number;
      maxRssMb: number;
      growthMb: number;
    };
    const line = oneErrorLine({ code: r.code, stdout: '', stderr: r.stderr });
    expect(line).toMatch(
      new RegExp(
        `bomb\\.png: 20000x20000 image \\(400000000 pixels\\) exceeds the limit of ${DEFAULT_MAX_PIXELS} pixels`,
      ),
    );
    expect(r.ms).toBeLessThan(1000);
    expect(r.growthMb).toBeLessThan(200);
  });

  it('--max-pixels sets the limit of run and eval; its help states the decoder default', async () => {
    const small = await runCli(['run', '--image', image.path, '--max-pixels', '4095', '--backend', 'cpu']);
    expect(oneErrorLine(small)).toMatch(/64x64 image \(4096 pixels\) exceeds the limit of 4095 pixels/);
    const ok = await runCli([
      'run',
      '--image',
      image.path,
      '--max-pixels',
      '4096',
      '--backend',
      'cpu',
      '--json',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(oneErrorLine(await runCli(['run', '--max-pixels', '0']))).toMatch(/expected a positive integer/);

    const data = path.join(tmp, 'eval.jsonl');
    writeFileSync(
      data,
      `${JSON.stringify({ image: image.path, question: image.question, answer: image.answer })}\n`,
    );
    const evalArgs = ['eval', '--model', defaultModelDir(), '--data', data, '--backend', 'cpu'];
    expect(oneErrorLine(await runCli([...evalArgs, '--max-pixels', '100']))).toMatch(
      /64x64 image \(4096 pixels\) exceeds the limit of 100 pixels/,
    );
    expect((await runCli([...evalArgs, '--json'])).code).toBe(0);

    expect(DEFAULT_MAX_PIXELS_HELP).toBe(DEFAULT_MAX_PIXELS);
    const help = await runCli(['run', '--help']);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain(
      `before any decoding (default: ${DEFAULT_MAX_PIXELS})`,
    );
  });

  it('refuses an empty or blank question in one line, exit 2', async () => {
    for (const q of ['', '   ']) {
      const line = oneErrorLine(await runCli(['run', '--question', q, '--backend', 'cpu']));
      expect(line).toBe('pumer: error: the question is empty: ask something about the image');
    }
  });
});
