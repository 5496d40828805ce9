import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PumerError } from '@pumer/core';

/**
 * Where every checkpoint converter (ViLT's, METER's) writes: an output folder checked before anything is read
 * or written, and the converted files written into it.
 */

/** One file a converter writes: its name in the output folder and its text or bytes. */
export type CheckpointOutputFile = readonly [name: string, data: string | Uint8Array];

/** A written file's name and size in bytes. */
export interface WrittenFile {
  readonly name: string;
  readonly bytes: number;
}

/**
 * The absolute output folder for converting `dir` into `out`, refused when it is `dir` itself, exists and is
 * not a folder, or (without `force`) is not empty.
 */
export function checkOutputDir(dir: string, out: string, force: boolean): string {
  const target = resolve(out);
  if (resolve(dir) === target)
    throw new PumerError('VALUE', `output "${out}" is the checkpoint directory itself`);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory())
      throw new PumerError('VALUE', `output "${out}" exists and is not a directory`);
    if (!force && readdirSync(target).length > 0)
      throw new PumerError('VALUE', `output directory "${out}" is not empty (use force to write into it)`);
  }
  return target;
}

/** Runs a conversion of the checkpoint in `dir`, naming `dir` in the PumerErrors it throws. */
export function convertingIn<T>(dir: string, convert: () => T): T {
  try {
    return convert();
  } catch (err) {
    if (err instanceof PumerError) throw new PumerError(err.code, `${dir}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** A JSON file's text as the converters write it: two-space indent, final newline. */
export const jsonFileText = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;

/** Writes `files` into the `target` folder (made if missing) and lists them with their sizes. */
export function writeOutputFiles(target: string, files: readonly CheckpointOutputFile[]): WrittenFile[] {
  mkdirSync(target, { recursive: true });
  for (const [name, data] of files) writeFileSync(join(target, name), data);
  return files.map(([name, data]) => ({
    name,
    bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength,
  }));
}
