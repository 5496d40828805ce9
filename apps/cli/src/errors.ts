import { PumerError } from '@pumer/core';

/** Exit codes: 0 success, 1 a check failed (parity) or an unexpected error, 2 bad usage or bad input. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Bad input the user can fix: a missing file, an unreadable model, a bad flag value. Always exit 2. */
export class CliError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** A command that ran to completion but whose checks failed (e.g. parity). Carries the exit code. */
export class CheckFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckFailed';
  }
}

/** One line, whatever the message looked like. */
export function oneLine(message: string): string {
  return message
    .replace(/^error:\s*/i, '')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}

/** Maps anything thrown by a command to its exit code: PuMer's own errors are input errors (2). */
export function exitCodeFor(err: unknown): number {
  if (err instanceof CheckFailed) return EXIT_FAILED;
  if (err instanceof CliError || err instanceof PumerError) return EXIT_USAGE;
  return EXIT_FAILED;
}
