import { markdownTable } from './markdown.js';
import type { MemoryReport, MemoryRow } from './memory.js';

const f = (x: number | null | undefined, d = 0) =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d).replace(/^-(0\.?0*)$/, '$1');

/** Change against the unreduced row of the same backend and batch, as a signed percentage. */
function versus(rows: readonly MemoryRow[], r: MemoryRow, pick: (r: MemoryRow) => number): string {
  const base = rows.find((b) => b.backend === r.backend && b.batch === r.batch && b.schedule === 'unreduced');
  if (!base || base === r) return '—';
  const pct = (100 * (pick(r) - pick(base))) / pick(base);
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%`;
}

/** The memory benchmark as a Markdown page: one row per configuration, then activations per layer. */
export function memoryMarkdown(report: MemoryReport): string {
  const m = report.machine;
  const g = report.geometry;
  const lines: string[] = [];
  lines.push(`# PuMer.js memory benchmark — ${g.name}`, '');
  lines.push(`Generated ${report.date} by:`, '', '```sh', report.command, '```', '');
  lines.push(
    `Machine: ${m.cpu} (${m.cores} logical cores), ${m.memoryGiB} GiB, ${m.platform} ${m.arch}, Node.js ${m.node}.`,
    '',
  );
  lines.push(
    `Geometry \`${g.name}\`: ${g['numLayers']} layers, hidden ${g['hiddenSize']}, ${g['numHeads']} heads, MLP ${g['intermediateSize']}, ${g['textTokens']} text + ${g['imageTokens']} image tokens. Weights file: ${f(report.weightsMiB)} MiB. ${report.warmup} warm-up and ${report.repeats} timed run(s) per configuration, each configuration in its own process.`,
    '',
  );
  lines.push('## Resident memory per configuration (MiB)', '');
  const runtime = report.rows.some((r) => r.runtime !== null);
  const header = [
    'backend',
    'batch',
    'schedule',
    'peak RSS',
    'vs unreduced',
    'run growth',
    'after warm-up',
    'after session',
    'after load',
    'startup peak',
    ...(runtime ? ['runtime peak'] : []),
    'activations: peak layer',
    'vs unreduced',
  ];
  const right = header.map((_, i) => i === 1 || i > 2);
  const body = report.rows.map((r) => [
    r.backend,
    String(r.batch),
    r.schedule,
    f(r.peakRssMiB),
    versus(report.rows, r, (x) => x.peakRssMiB),
    f(r.runGrowthMiB),
    f(r.rssWarmMiB),
    f(r.rssSessionMiB),
    f(r.rssLoadedMiB),
    f(r.startupPeakRssMiB),
    ...(runtime ? [f(r.runtime?.peakMiB, 1)] : []),
    f(r.peakActivationMiB, 1),
    versus(report.rows, r, (x) => x.peakActivationMiB),
  ]);
  lines.push(...markdownTable(header, right, body), '');

  lines.push("## The scheduler's activation bytes per layer (MiB, float32, whole batch)", '');
  const schedules = [...new Set(report.rows.map((r) => r.schedule))];
  for (const batch of [...new Set(report.rows.map((r) => r.batch))]) {
    const perSchedule = schedules.map((s) => report.rows.find((r) => r.batch === batch && r.schedule === s));
    const layers = perSchedule.find((r) => r)?.activationMiB.length ?? 0;
    lines.push(`Batch ${batch}:`, '');
    const rows: string[][] = [];
    for (let l = 0; l < layers; l++)
      rows.push([String(l), ...perSchedule.map((r) => f(r?.activationMiB[l], 1))]);
    rows.push(['Σ', ...perSchedule.map((r) => f(r?.totalActivationMiB, 1))]);
    lines.push(...markdownTable(['layer', ...schedules], [true, ...schedules.map(() => true)], rows), '');
  }
  lines.push('## How to read it', '');
  lines.push(
    report.rssMethod === 'VmHWM'
      ? "- **peak RSS**: the kernel's resident-set high-water mark (VmHWM) over the timed runs, reset after warm-up."
      : '- **peak RSS**: the largest resident set sampled after each timed run (no resettable high-water mark here).',
    '- **run growth**: peak RSS − RSS after warm-up: what one run adds on top of a warm process (activations the runtime does not keep between runs); 0 when the run fits in memory already resident (an arena keeps its chunks between runs).',
    '- **startup peak**: the process high-water mark before the timed runs (loading, graph building, session creation, warm-up).',
    ...(runtime
      ? [
          `- **runtime peak**: what the runtime reports of its own memory: ${[...new Set(report.rows.flatMap((r) => (r.runtime ? [r.runtime.what] : [])))].join('; ')}.`,
        ]
      : []),
    "- **activations**: the scheduler's estimate (`pumer schedule`), per layer the larger of attention (x, q, k, v and the heads' N×N probabilities) and MLP (input, output, hidden), times the batch.",
  );
  for (const note of report.notes) lines.push(`- ${note}`);
  lines.push('');
  return lines.join('\n');
}
