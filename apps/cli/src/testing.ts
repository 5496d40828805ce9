import type { CliIO } from './io.js';
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
