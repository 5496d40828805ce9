import { createColors } from 'picocolors';

export type Colors = ReturnType<typeof createColors>;

/**
 * Where a command writes, and what it may assume about the terminal. The bin wires it to the process;
 * tests pass their own to capture output without spawning.
 */
export interface CliIO {
  /** Writes to stdout (results). */
  out(text: string): void;
  /** Writes to stderr (progress, notices, errors). */
  err(text: string): void;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The directory relative paths on the command line are resolved against: the caller's (see callerDirectory). */
  readonly cwd: string;
  /** The raw stderr stream for the progress bar; absent in tests. */
  readonly stderrStream?: NodeJS.WritableStream;
}

/**
 * The directory the user typed the command in. `pnpm pumer …` (and `npm run`) start the script in the
 * workspace root, not where the user is, and put the user's directory in INIT_CWD: relative --image, --model
 * and --data paths must resolve against that one.
 */
export function callerDirectory(env: Readonly<Record<string, string | undefined>>, cwd: string): string {
  const init = env['INIT_CWD'];
  return init !== undefined && init !== '' ? init : cwd;
}

export function processIO(): CliIO {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    env: process.env,
    cwd: callerDirectory(process.env, process.cwd()),
    stderrStream: process.stderr,
  };
}

/** Colours only on a terminal, never with --json, and never when NO_COLOR is set to anything non-empty (no-color.org). */
export function colorsFor(io: CliIO, json: boolean): Colors {
  const noColor = io.env['NO_COLOR'] !== undefined && io.env['NO_COLOR'] !== '';
  const force = io.env['FORCE_COLOR'] !== undefined && io.env['FORCE_COLOR'] !== '0';
  return createColors(!json && !noColor && (force || io.stdoutIsTTY));
}

/** Writes a value as pretty JSON followed by a newline. Typed arrays become plain arrays. */
export function writeJson(io: CliIO, value: unknown): void {
  io.out(
    `${JSON.stringify(value, (_k, v) => (ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as unknown as ArrayLike<number>) : v), 2)}\n`,
  );
}
