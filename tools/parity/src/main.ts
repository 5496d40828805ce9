import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type BackendInfo, PumerError } from '@pumer/core';
import { findSharedDir } from './shared-data.js';
import { runMeterModelParity } from './meter-model-parity.js';
import { formatCaseLine, formatSummary, runGoldenParity } from './runner.js';

const USAGE = `usage: pnpm parity [--golden DIR] [--model DIR[,DIR…]] [--backend cpu|node|webgpu]

Runs every pumer-golden/1 JSON file in DIR (ViLT's kinds and METER's meter_cross_layer) through a backend
and compares with the golden outputs (|a - b| <= 1e-4 + 1e-4·|b|; shapes and counts exact).
  --golden DIR     golden vectors (default: golden/ of $PUMER_SHARED, else of ../shared beside the repository)
  --model DIRS     METER checkpoint directories with a cases.json: each runs with its schedule on and off
                   (given alone, only these run)
  --backend NAME   backend to test (default: cpu)
Exit code: 0 all passed, 1 a case failed, 2 usage error or nothing to run.`;

function describeBackend(info: BackendInfo): string {
  const parts = [`backend ${info.name} (provider ${info.provider}`];
  if (info.requested && info.requested !== info.provider) parts.push(`, requested ${info.requested}`);
  if (info.fallbackReason) parts.push(`, fallback: ${info.fallbackReason}`);
  return `${parts.join('')})`;
}

async function main(argv: string[]): Promise<number> {
  let values: { golden?: string; model?: string; backend?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        golden: { type: 'string' },
        model: { type: 'string' },
        backend: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`parity: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const shared = findSharedDir();
  const runGolden = values.golden !== undefined || values.model === undefined;
  if (runGolden && values.golden === undefined && shared === null) {
    process.stderr.write('parity: no golden directory: pass --golden DIR or set PUMER_SHARED\n');
    return 2;
  }
  const backend = values.backend ?? 'cpu';
  const printCase = (c: Parameters<typeof formatCaseLine>[0]) =>
    process.stdout.write(`${formatCaseLine(c)}\n`);
  let passed = 0;
  let failed = 0;
  try {
    if (runGolden) {
      const dir = resolve(values.golden ?? join(shared!, 'golden'));
      const report = await runGoldenParity({
        dir,
        backend,
        // Context goes to stderr so stdout stays one line per case plus the closing count.
        onStart: (info, files) =>
          process.stderr.write(
            `parity: ${files.length} golden files in ${dir} on ${describeBackend(info)}\n`,
          ),
        onCase: printCase,
      });
      passed += report.passed;
      failed += report.failed;
    }
    if (values.model !== undefined) {
      const models = values.model.split(',').map((m) => resolve(m.trim()));
      const report = await runMeterModelParity({ backend, models, onCase: printCase });
      passed += report.passed;
      failed += report.failed;
    }
    process.stdout.write(`${formatSummary({ passed, failed })}\n`);
    return failed > 0 ? 1 : 0;
  } catch (err) {
    if (err instanceof PumerError) {
      process.stderr.write(`parity: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(
      `parity: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 1;
  },
);
