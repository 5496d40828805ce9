import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedPath } from '../shared-data.js';

/** The golden vectors' directory in the reference data. */
export function goldenDir(): string {
  return sharedPath('golden');
}

/** The `*.json` file names of a golden directory (default: the reference data's), sorted. */
export function goldenFiles(dir: string = goldenDir()): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

/** One golden file, JSON-decoded (parse it with `parseGoldenCase`, or run it with `runGoldenDocument`). */
export function readGoldenDocument(file: string, dir: string = goldenDir()): unknown {
  return JSON.parse(readFileSync(join(dir, file), 'utf8'));
}
