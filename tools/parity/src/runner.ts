import { type Backend, type BackendInfo, PumerError } from '@pumer/core';
import {
  type CaseResult,
  METER_CROSS_LAYER_KIND,
  runGoldenDocument,
  runMeterGoldenDocument,
} from '@pumer/testkit';
import { parsePythonJson } from '@pumer/testkit/node';
import { loadBackend } from './backends.js';

export type { CaseResult };

export interface ParityReport {
  /** What ran: the backend's own report (provider, fallback reason, …). */
  readonly backend: BackendInfo;
  readonly cases: readonly CaseResult[];
  readonly passed: number;
  readonly failed: number;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** One decoded golden document on a backend: METER's co-attention steps by their kind, ViLT's otherwise. */
function runDocument(doc: unknown, source: string, backend: Backend): Promise<CaseResult> {
  const kind = (doc as { kind?: unknown } | null)?.kind;
  return kind === METER_CROSS_LAYER_KIND
    ? runMeterGoldenDocument(doc, source, backend)
    : runGoldenDocument(doc, source, backend);
}

export interface GoldenParityOptions {
  /** A directory of `pumer-golden/1` JSON files. */
  readonly dir: string;
  /** A backend instance, or a registry name whose package is imported (cpu, node, webgpu). Default 'cpu'. */
  readonly backend?: Backend | string;
  /** Called once the backend is ready, before the first case. */
  readonly onStart?: (info: BackendInfo, files: readonly string[]) => void;
  /** Called after each case (the CLI prints as it goes). */
  readonly onCase?: (result: CaseResult) => void;
}

/**
 * Runs every `*.json` file of `dir` (sorted by name) on the backend: ViLT's golden kinds and METER's
 * `meter_cross_layer` alike. Each file is one case: unreadable,
 * malformed or failing files are failed cases with a reason. Throws a PumerError (code GOLDEN) when the
 * directory is missing or holds no JSON file, and (code BACKEND) when the backend cannot be loaded.
 */
export async function runGoldenParity(options: GoldenParityOptions): Promise<ParityReport> {
  const { readdir, readFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const dir = options.dir;
  let names: string[];
  try {
    names = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  } catch (err) {
    throw new PumerError('GOLDEN', `cannot read golden directory ${dir}: ${message(err)}`, { cause: err });
  }
  if (names.length === 0) throw new PumerError('GOLDEN', `golden directory ${dir} holds no .json files`);
  const backend =
    typeof options.backend === 'object' ? options.backend : await loadBackend(options.backend ?? 'cpu');
  const info = backend.info();
  options.onStart?.(info, names);
  const cases: CaseResult[] = [];
  for (const file of names) {
    const source = file.replace(/\.json$/, '');
    let result: CaseResult;
    let text: string | null = null;
    try {
      text = await readFile(join(dir, file), 'utf8');
    } catch (err) {
      result = {
        name: source,
        passed: false,
        maxAbsErr: Number.NaN,
        reason: `unreadable golden file: ${message(err)}`,
      };
    }
    if (text !== null) {
      let doc: unknown;
      try {
        // The authors' METER files are written by Python's json (bare Infinity for a case with no decision).
        doc = parsePythonJson(text);
      } catch (err) {
        doc = undefined;
        result = {
          name: source,
          passed: false,
          maxAbsErr: Number.NaN,
          reason: `malformed golden file: invalid JSON (${message(err)})`,
        };
      }
      if (doc !== undefined) result = await runDocument(doc, source, backend);
    }
    result = { ...result!, file };
    cases.push(result);
    options.onCase?.(result);
  }
  const passed = cases.filter((c) => c.passed).length;
  return { backend: info, cases, passed, failed: cases.length - passed };
}

/** One report line: `<name>  max_abs_err=<e>  PASS|FAIL [reason]`. */
export function formatCaseLine(c: CaseResult): string {
  const err = Number.isFinite(c.maxAbsErr) ? c.maxAbsErr.toExponential(2) : 'nan';
  return `${c.name}  max_abs_err=${err}  ${c.passed ? 'PASS' : `FAIL ${c.reason ?? ''}`.trimEnd()}`;
}

/** The closing line the test harnesses read. */
export function formatSummary(r: { passed: number; failed: number }): string {
  return `${r.passed} passed, ${r.failed} failed`;
}
