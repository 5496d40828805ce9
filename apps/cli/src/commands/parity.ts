import { existsSync } from 'node:fs';
import path from 'node:path';
import { CheckFailed, CliError } from '../errors.js';
import { type CliIO, colorsFor, writeJson } from '../io.js';
import { loadBackend } from '../loaders.js';

export interface ParityCommandOptions {
  backend: string;
  golden?: string;
  models?: string;
  data?: string;
  examples: number;
  json?: boolean;
}

export interface ParityLine {
  suite: 'golden' | 'model';
  name: string;
  passed: boolean;
  /** golden: max abs error of the outputs; model: max |logit diff|. */
  maxAbsErr: number;
  reason?: string;
}

export interface ParityReport {
  backend: { name: string; provider: string };
  golden: string;
  models: string[];
  cases: ParityLine[];
  passed: number;
  failed: number;
  notes: string[];
}

function requireDir(p: string, what: string): string {
  if (!existsSync(p)) throw new CliError(`${what} not found: ${p}`);
  return p;
}

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
  const golden = requireDir(
    opts.golden ? path.resolve(io.cwd, opts.golden) : fromShared('golden', '--golden'),
    'golden directory',
  );
  const models = (
    opts.models
      ? opts.models.split(',').map((m) => path.resolve(io.cwd, m.trim()))
      : [
          fromShared('models/tiny-vilt-shapes', '--models'),
          fromShared('models/tiny-vilt-shapes-pumer', '--models'),
        ]
  ).map((m) => requireDir(m, 'model directory'));
  const data = requireDir(
    opts.data ? path.resolve(io.cwd, opts.data) : fromShared('models/shapesvqa-eval/eval.jsonl', '--data'),
    'eval data',
  );

  const backend = await loadBackend(opts.backend);
  const { runGoldenParity, runModelParity } = await import('@pumer/parity');
  const cases: ParityLine[] = [];
  const notes: string[] = [];

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

  if (opts.backend === 'cpu') {
    notes.push(
      'model parity compares a backend with the cpu reference: nothing to compare for --backend cpu',
    );
  } else {
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
  const passed = cases.filter((c) => c.passed).length;
  const info = backend.info();
  return {
    backend: { name: info.name, provider: info.provider },
    golden,
    models,
    cases,
    passed,
    failed: cases.length - passed,
    notes,
  };
}

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
        io.out(
          `\n${c.bold(suite === 'golden' ? `golden vectors (${r.golden})` : 'model parity vs cpu (logits <= 1e-3, trace indices identical)')}\n`,
        );
      }
      io.out(`${formatCaseLine(line)}\n`);
    }
    for (const note of r.notes) io.out(`${c.dim(`note: ${note}`)}\n`);
    io.out(`\n${formatSummary(r)}\n`);
  }
  if (r.failed > 0) throw new CheckFailed(`parity: ${r.failed} case(s) failed`);
}
