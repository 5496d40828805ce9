import { existsSync } from 'node:fs';
import path from 'node:path';
import { PumerError } from '@pumer/core';
import { CheckFailed, CliError } from '../errors.js';
import { type CliIO, colorsFor, writeJson } from '../io.js';
import { loadBackend } from '../loaders.js';

export interface ParityCommandOptions {
  backend: string;
  golden?: string;
  models?: string;
  /** METER checkpoint directories with their cases.json, comma-separated. */
  model?: string;
  data?: string;
  examples: number;
  json?: boolean;
}

export interface ParityLine {
  /** golden vectors, ViLT cross-backend model parity, or a METER model's reference cases. */
  suite: 'golden' | 'model' | 'meter-model';
  name: string;
  passed: boolean;
  /** golden: max abs error of the outputs; model, meter-model: max |logit diff|. */
  maxAbsErr: number;
  /** meter-model: the logits the backend computed (one row per example). */
  logits?: readonly (readonly number[])[];
  /** meter-model: per image pass, per step, the (text, image) tokens after the step. */
  tokens?: readonly (readonly (readonly [number, number])[])[];
  reason?: string;
}

export interface ParityReport {
  backend: { name: string; provider: string };
  /** The golden directory run, or null when only --model was given. */
  golden: string | null;
  models: string[];
  /** The METER model directories whose cases.json ran. */
  meterModels: string[];
  cases: ParityLine[];
  passed: number;
  failed: number;
  notes: string[];
}

function requireDir(p: string, what: string): string {
  if (!existsSync(p)) throw new CliError(`${what} not found: ${p}`);
  return p;
}

/**
 * What runs: the golden vectors (--golden, or the shared ones), ViLT's cross-backend model parity for a backend
 * other than cpu (--models, or the two tiny models), and each METER model's reference cases (--model). Given
 * alone, --model runs only its models; --golden or --models beside it add those suites.
 */
export async function checkParity(opts: ParityCommandOptions, io: CliIO): Promise<ParityReport> {
  const { findSharedDir, SHARED_ENV } = await import('@pumer/parity');
  // The reference data: $PUMER_SHARED, else ../shared beside the repository the cwd is in.
  const shared = findSharedDir({ from: io.cwd, env: io.env });
  const fromShared = (rel: string, flag: string) => {
    if (!shared)
      throw new CliError(
        `no default for ${flag} outside the PuMer.js repository: pass ${flag} or set ${SHARED_ENV}`,
      );
    return path.join(shared, rel);
  };
  const meterOnly = opts.model !== undefined && opts.golden === undefined && opts.models === undefined;
  const meterModels = (
    opts.model ? opts.model.split(',').map((m) => path.resolve(io.cwd, m.trim())) : []
  ).map((m) => requireDir(m, 'model directory'));
  const golden = meterOnly
    ? null
    : requireDir(
        opts.golden ? path.resolve(io.cwd, opts.golden) : fromShared('golden', '--golden'),
        'golden directory',
      );
  const runViltModels = opts.backend !== 'cpu' && (!meterOnly || opts.models !== undefined);
  const models = meterOnly
    ? []
    : (opts.models
        ? opts.models.split(',').map((m) => path.resolve(io.cwd, m.trim()))
        : [
            fromShared('models/tiny-vilt-shapes', '--models'),
            fromShared('models/tiny-vilt-shapes-pumer', '--models'),
          ]
      ).map((m) => requireDir(m, 'model directory'));
  const data = runViltModels
    ? requireDir(
        opts.data
          ? path.resolve(io.cwd, opts.data)
          : fromShared('models/shapesvqa-eval/eval.jsonl', '--data'),
        'eval data',
      )
    : null;

  const backend = await loadBackend(opts.backend);
  const { runGoldenParity, runModelParity, runMeterModelParity } = await import('@pumer/parity');
  const cases: ParityLine[] = [];
  const notes: string[] = [];

  if (golden !== null) {
    const goldenResult = await runGoldenParity({ dir: golden, backend: opts.backend });
    for (const c of goldenResult.cases) {
      cases.push({
        suite: 'golden',
        name: c.name,
        passed: c.passed,
        maxAbsErr: c.maxAbsErr,
        ...(c.reason ? { reason: c.reason } : {}),
      });
    }
  }

  if (!meterOnly && opts.backend === 'cpu') {
    notes.push(
      'model parity compares a backend with the cpu reference: nothing to compare for --backend cpu',
    );
  } else if (runViltModels && data !== null) {
    const modelResult = await runModelParity({
      backend,
      reference: 'cpu',
      models,
      data,
      examples: opts.examples,
    });
    for (const c of modelResult.cases) {
      cases.push({
        suite: 'model',
        name: c.name,
        passed: c.passed,
        maxAbsErr: c.maxAbsLogitDiff,
        ...(c.reason ? { reason: c.reason } : {}),
      });
    }
  }

  if (meterModels.length > 0) {
    let meterResult: Awaited<ReturnType<typeof runMeterModelParity>>;
    try {
      meterResult = await runMeterModelParity({ backend, models: meterModels });
    } catch (err) {
      // A directory without cases.json: nothing to run, a usage error.
      if (err instanceof PumerError && err.code === 'GOLDEN') throw new CliError(err.message);
      throw err;
    }
    for (const c of meterResult.cases) {
      cases.push({
        suite: 'meter-model',
        name: c.name,
        passed: c.passed,
        maxAbsErr: c.maxAbsErr,
        ...(c.logits ? { logits: c.logits } : {}),
        ...(c.tokens ? { tokens: c.tokens } : {}),
        ...(c.reason ? { reason: c.reason } : {}),
      });
    }
  }
  const passed = cases.filter((c) => c.passed).length;
  const info = backend.info();
  return {
    backend: { name: info.name, provider: info.provider },
    golden,
    models: runViltModels ? models : [],
    meterModels,
    cases,
    passed,
    failed: cases.length - passed,
    notes,
  };
}

const SUITE_TITLES: Record<ParityLine['suite'], (r: ParityReport) => string> = {
  golden: (r) => `golden vectors (${r.golden})`,
  model: () => 'model parity vs cpu (logits <= 1e-3, trace indices identical)',
  'meter-model': () =>
    "METER model cases vs the authors' reference (logits <= 1e-4 + 1e-4·|ref|, token counts exact)",
};

export async function parityCommand(opts: ParityCommandOptions, io: CliIO): Promise<void> {
  const r = await checkParity(opts, io);
  const { formatCaseLine, formatSummary } = await import('@pumer/parity');
  if (opts.json) {
    writeJson(io, r);
  } else {
    const c = colorsFor(io, false);
    io.out(`${c.dim('backend')} ${r.backend.name} (${r.backend.provider})\n`);
    let suite = '';
    for (const line of r.cases) {
      if (line.suite !== suite) {
        suite = line.suite;
        io.out(`\n${c.bold(SUITE_TITLES[line.suite](r))}\n`);
      }
      io.out(`${formatCaseLine(line)}\n`);
    }
    for (const note of r.notes) io.out(`${c.dim(`note: ${note}`)}\n`);
    io.out(`\n${formatSummary(r)}\n`);
  }
  if (r.failed > 0) throw new CheckFailed(`parity: ${r.failed} case(s) failed`);
}
