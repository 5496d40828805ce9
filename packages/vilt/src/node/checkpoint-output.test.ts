import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PumerError } from '@pumer/core';
import { afterEach, describe, expect, it } from 'vitest';
import { checkOutputDir, convertingIn, jsonFileText, writeOutputFiles } from './checkpoint-output.js';

describe('checkpoint output (shared by the ViLT and METER converters)', () => {
  const made: string[] = [];
  const scratch = () => {
    const dir = mkdtempSync(join(tmpdir(), 'pumer-out-'));
    made.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('checkOutputDir refuses the input folder, a file and (without force) a non-empty folder', () => {
    const root = scratch();
    const out = join(root, 'out');
    expect(checkOutputDir(join(root, 'in'), out, false)).toBe(out);
    expect(() => checkOutputDir(root, root, true)).toThrow(/is the checkpoint directory itself/);
    writeFileSync(join(root, 'file'), 'x');
    expect(() => checkOutputDir(out, join(root, 'file'), true)).toThrow(/exists and is not a directory/);
    mkdirSync(out);
    writeFileSync(join(out, 'old'), 'x');
    expect(() => checkOutputDir(root, out, false)).toThrow(/is not empty \(use force/);
    expect(checkOutputDir(join(root, 'in'), out, true)).toBe(out);
  });

  it('writeOutputFiles makes the folder and lists each file with its size in bytes', () => {
    const out = join(scratch(), 'made');
    const files = writeOutputFiles(out, [
      ['a.json', jsonFileText({ é: 1 })],
      ['b.bin', Uint8Array.of(1, 2, 3)],
    ]);
    expect(files).toEqual([
      { name: 'a.json', bytes: Buffer.byteLength('{\n  "é": 1\n}\n') },
      { name: 'b.bin', bytes: 3 },
    ]);
    expect(readFileSync(join(out, 'a.json'), 'utf8')).toBe('{\n  "é": 1\n}\n');
  });

  it('convertingIn names the checkpoint folder in PumerErrors and passes other errors on', () => {
    expect(convertingIn('ckpt', () => 4)).toBe(4);
    expect(() =>
      convertingIn('ckpt', () => {
        throw new PumerError('CHECKPOINT', 'bad weights');
      }),
    ).toThrow(/^ckpt: bad weights$/);
    const plain = new TypeError('boom');
    expect(() =>
      convertingIn('ckpt', () => {
        throw plain;
      }),
    ).toThrow(plain);
  });
});
