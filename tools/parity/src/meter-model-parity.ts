import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type Backend, type BackendInfo, type FloatTensor, type MeterOutputs, PumerError } from '@pumer/core';
import { type LoadedMeter, loadMeter } from '@pumer/meter/node';
import {
  compareMeterOutputs,
  type MeterModelCases,
  type MeterRunExpectation,
  parseMeterModelCases,
} from '@pumer/testkit';
import { parsePythonJson } from '@pumer/testkit/node';
import { loadBackend } from './backends.js';

/**
 * METER model parity against the authors' reference: a METER checkpoint directory with its `cases.json` (kind
 * `meter_model_cases`) runs its batch on a backend with the task's schedule ("reduced") and without
 * ("unreduced"); each run is one case, passing when logits and pooled features are within the golden tolerance
 * and every step's (text, image) token counts are exact (@pumer/testkit's `compareMeterOutputs`).
 */

export const METER_CASES_FILE = 'cases.json';

export type MeterRun = 'reduced' | 'unreduced';

export interface MeterModelParityOptions {
  /** The backend under test: a registry name (its package is imported and the backend activated) or a Backend. */
  readonly backend: string | Backend;
  /** METER checkpoint directories, each holding a cases.json. */
  readonly models: readonly string[];
  /** Called after each case (the CLI prints as it goes). */
  readonly onCase?: (c: MeterModelCase) => void;
}

export interface MeterModelCase {
  /** `<model> reduced` or `<model> unreduced`. */
  readonly name: string;
  readonly model: string;
  readonly run: MeterRun;
  readonly passed: boolean;
  /** max |logit - reference logit|; NaN when the case failed before logits existed. */
  readonly maxAbsErr: number;
  /** The logits the backend computed, one row per example (absent when the run failed). */
  readonly logits?: readonly (readonly number[])[];
  /** Per image pass, per step: the (text, image) tokens after the step. */
  readonly tokens?: readonly (readonly (readonly [number, number])[])[];
  readonly reason?: string;
}

export interface MeterModelParityResult {
  readonly backend: BackendInfo;
  readonly cases: readonly MeterModelCase[];
  readonly passed: number;
  readonly failed: number;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** [B, L] as rows. */
export function logitRows(t: FloatTensor): number[][] {
  const [b = 1] = t.shape;
  const width = t.data.length / b;
  return Array.from({ length: b }, (_, i) => Array.from(t.data.subarray(i * width, (i + 1) * width)));
}

function maxLogitDiff(got: FloatTensor, want: MeterRunExpectation['logits']): number {
  if (got.shape.join() !== want.shape.join()) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < want.data.length; i++) {
    const d = Math.abs(got.data[i]! - want.data[i]!);
    if (!(d <= m)) m = d; // NaN propagates as a failure
  }
  return m;
}

function tokenCounts(out: MeterOutputs): [number, number][][] {
  return (out.passes ?? [out.steps]).map((steps) => steps.map((s) => [s.textOut, s.imageOut]));
}

/**
 * A METER checkpoint directory's cases.json, parsed. Throws a PumerError (code GOLDEN) when the directory has
 * none (nothing to run) and when it is not valid (the caller makes that a failed case).
 */
export function readMeterCases(dir: string): MeterModelCases {
  const file = join(dir, METER_CASES_FILE);
  if (!existsSync(file)) throw new PumerError('GOLDEN', `${dir} has no ${METER_CASES_FILE}`);
  let doc: unknown;
  try {
    doc = parsePythonJson(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new PumerError('GOLDEN', `malformed ${METER_CASES_FILE}: invalid JSON (${message(err)})`);
  }
  try {
    return parseMeterModelCases(doc);
  } catch (err) {
    throw new PumerError('GOLDEN', `malformed ${METER_CASES_FILE}: ${message(err)}`);
  }
}

async function runOne(
  backend: Backend,
  loaded: LoadedMeter,
  cases: MeterModelCases,
  run: MeterRun,
  model: string,
): Promise<MeterModelCase> {
  const name = `${model} ${run}`;
  const want = cases[run];
  let out: MeterOutputs;
  try {
    out = await backend.runMeter(loaded.model, cases.inputs, run === 'reduced' ? cases.config : null);
  } catch (err) {
    return { name, model, run, passed: false, maxAbsErr: Number.NaN, reason: `error: ${message(err)}` };
  }
  const cmp = compareMeterOutputs(out, want);
  return {
    name,
    model,
    run,
    passed: cmp.ok,
    maxAbsErr: maxLogitDiff(out.logits, want.logits),
    logits: logitRows(out.logits),
    tokens: tokenCounts(out),
    ...(cmp.ok ? {} : { reason: cmp.problems.join('; ') }),
  };
}

/**
 * Runs every model's cases on the backend: two cases per model (reduced, then unreduced). A directory without a
 * cases.json throws (code GOLDEN); a malformed cases.json or a checkpoint that does not load makes both of its
 * cases fail with the reason.
 */
export async function runMeterModelParity(options: MeterModelParityOptions): Promise<MeterModelParityResult> {
  if (options.models.length === 0) throw new PumerError('VALUE', 'runMeterModelParity: no models given');
  for (const dir of options.models) {
    if (!existsSync(join(dir, METER_CASES_FILE)))
      throw new PumerError('GOLDEN', `${dir} has no ${METER_CASES_FILE}`);
  }
  const backend = typeof options.backend === 'object' ? options.backend : await loadBackend(options.backend);
  const cases: MeterModelCase[] = [];
  const push = (c: MeterModelCase) => {
    cases.push(c);
    options.onCase?.(c);
  };
  for (const dir of options.models) {
    const model = basename(dir.replace(/\/+$/, '')) || dir;
    let loaded: LoadedMeter;
    let expected: MeterModelCases;
    try {
      expected = readMeterCases(dir);
      loaded = loadMeter(dir);
    } catch (err) {
      for (const run of ['reduced', 'unreduced'] as const)
        push({
          name: `${model} ${run}`,
          model,
          run,
          passed: false,
          maxAbsErr: Number.NaN,
          reason: message(err),
        });
      continue;
    }
    for (const run of ['reduced', 'unreduced'] as const)
      push(await runOne(backend, loaded, expected, run, model));
  }
  const passed = cases.filter((c) => c.passed).length;
  return { backend: backend.info(), cases, passed, failed: cases.length - passed };
}
