import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedPath } from '../shared-data.js';
import { type MeterModelCases, parseMeterModelCases } from './model-cases.js';

/** METER's reference data on disk: the golden co-attention steps and the tiny models. */

export const METER_MODELS = ['tiny-meter-vqa', 'tiny-meter-nlvr2', 'tiny-meter-ve'] as const;
export type MeterModelName = (typeof METER_MODELS)[number];

export function meterGoldenDir(): string {
  return sharedPath('meter', 'golden');
}

/** The `meter_cross*.json` files, sorted. */
export function meterGoldenFiles(dir: string = meterGoldenDir()): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

/**
 * JSON as Python's json module writes it: bare `Infinity` / `-Infinity` (e.g. the decision margin of a case
 * that makes no decision) become 1e999 / -1e999, which JSON.parse reads as ±Infinity; `NaN` becomes null.
 */
export function parsePythonJson(text: string): unknown {
  return JSON.parse(
    text.replace(
      /([:,[]\s*)(-?)(Infinity|NaN)(?=\s*[,\]}])/g,
      (_m, before: string, sign: string, word: string) =>
        word === 'NaN' ? `${before}null` : `${before}${sign}1e999`,
    ),
  );
}

/** One golden file, decoded (parse it with `parseMeterGoldenCase`). */
export function readMeterGoldenDocument(file: string, dir: string = meterGoldenDir()): unknown {
  return parsePythonJson(readFileSync(join(dir, file), 'utf8'));
}

/** A tiny model's directory (config.json, text_config.json, pytorch_model.bin, cases.json). */
export function meterModelDir(name: MeterModelName): string {
  return sharedPath('meter', 'models', name);
}

/** A tiny model's cases.json, parsed. */
export function readMeterModelCases(name: MeterModelName): MeterModelCases {
  return parseMeterModelCases(parsePythonJson(readFileSync(join(meterModelDir(name), 'cases.json'), 'utf8')));
}
