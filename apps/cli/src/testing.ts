import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundledImages } from '@pumer/vilt/node';
import type { CliIO } from './io.js';
import { defaultModelDir } from './loaders.js';
import { main } from './program.js';

/** An in-memory CliIO for tests: captures stdout and stderr, no terminal, no colours. */
export function captureIO(
  cwd = process.cwd(),
  env: Record<string, string | undefined> = {},
): CliIO & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out(text: string) {
      io.stdout += text;
    },
    err(text: string) {
      io.stderr += text;
    },
    stdoutIsTTY: false,
    stderrIsTTY: false,
    env: { ...env },
    cwd,
  };
  return io;
}

/** Runs the CLI in-process and returns its exit code and output. */
export async function runCli(
  argv: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined> } = {},
) {
  const io = captureIO(opts.cwd, opts.env);
  const code = await main(argv, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

/**
 * A copy of the embedded checkpoint without the "pumer" section of its config.json: a model with no schedule of
 * its own (what `--schedule model` must then run unreduced). Made in a temporary directory.
 */
export async function unscheduledCheckpoint(): Promise<string> {
  const from = await defaultModelDir();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pumer-unscheduled-'));
  for (const f of readdirSync(from)) copyFileSync(path.join(from, f), path.join(dir, f));
  const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  delete config['pumer'];
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

/**
 * A VQA set of the bundled images (absolute paths) as JSONL in `dir`, so an eval or tune test needs nothing
 * outside the repo. Returns the file's path.
 */
export function bundledVqaSet(dir: string, fileName: string): string {
  const file = path.join(dir, fileName);
  writeFileSync(
    file,
    bundledImages()
      .map((i) => JSON.stringify({ image: i.path, question: i.question, answer: i.answer }))
      .join('\n') + '\n',
  );
  return file;
}
