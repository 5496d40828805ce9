import type { ViltTask } from '@pumer/core';
import type { BenchReport, BenchRow } from './types.js';

/** A number for a table cell: `d` decimals, or — when there is none. */
export const fixedCell = (x: number | null | undefined, d: number) =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d);
const f = fixedCell;

function shareCell(row: BenchRow): string {
  return row.reducerShare ? `${(100 * row.reducerShare.share).toFixed(1)}%` : '—';
}

/** A Markdown table with padded cells, the layout Biome's formatter gives it (so `biome check` stays clean). */
export function markdownTable(
  header: readonly string[],
  right: readonly boolean[],
  rows: readonly (readonly string[])[],
): string[] {
  const width = header.map((h, c) => Math.max(3, h.length, ...rows.map((r) => r[c]!.length)));
  const cell = (text: string, c: number) => (right[c] ? text.padStart(width[c]!) : text.padEnd(width[c]!));
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
  const rule = `| ${width.map((w, c) => (right[c] ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)];
}

/** The top of every speed report page: its title, the command that made it, the machine it ran on. */
export function benchPageHead(
  title: string,
  report: Pick<BenchReport, 'date' | 'command' | 'machine'>,
): string[] {
  const m = report.machine;
  return [
    `# PuMer.js benchmark — ${title}`,
    '',
    `Generated ${report.date} by:`,
    '',
    '```sh',
    report.command,
    '```',
    '',
    '## Machine',
    '',
    `- CPU: ${m.cpu} (${m.cores} logical cores, available parallelism ${m.availableParallelism})`,
    `- Memory: ${m.memoryGiB} GiB`,
    `- OS: ${m.platform} ${m.arch}`,
    `- Node.js: ${m.node}`,
    '',
  ];
}

/** What each task's head does per batch row. */
const TASK_HEADS: Readonly<Record<ViltTask, string>> = {
  vqa: 'a VQA head (one image pass per example)',
  ve: 'a visual-entailment head (one image pass per example)',
  nlvr2: 'an NLVR2 head: two image passes per example (left, right), each reduced on its own',
  retrieval: 'a retrieval head (rank_output): one pass per text-image pair',
};

/** The benchmark as a Markdown page: machine, exact command, one table row per configuration, and the method. */
export function benchMarkdown(report: BenchReport): string {
  const lines: string[] = [];
  const task = report.task ?? 'vqa';
  lines.push(...benchPageHead(`${report.geometry.name}${task === 'vqa' ? '' : `, ${task}`}`, report));
  lines.push('## Setup', '');
  const g = report.geometry;
  lines.push(
    `- Geometry \`${g.name}\`: ${g['numLayers']} layers, hidden ${g['hiddenSize']}, ${g['numHeads']} heads, MLP ${g['intermediateSize']}, ${g['textTokens']} text + ${g['imageTokens']} image tokens.`,
  );
  lines.push(
    `- Checkpoint: deterministic random weights (seed ${report.seed}) in the Hugging Face ViLT layout, loaded with \`loadVilt\`; ${TASK_HEADS[task]}.`,
  );
  lines.push(
    `- ${report.warmup} warm-up run(s) then ${report.repeats} timed run(s) per configuration, interleaved: each repeat visits every configuration once, round-robin, in one process.`,
  );
  lines.push('');
  lines.push('## Results', '');
  const unit =
    report.throughputUnit === undefined || report.throughputUnit === 'img/s'
      ? 'images/s'
      : report.throughputUnit;
  const header = [
    'backend',
    'provider',
    'batch',
    'schedule',
    `${unit} median`,
    `${unit} min`,
    'p50 ms',
    'p95 ms',
    'speed-up',
    'ideal',
    'achieved ÷ ideal',
    'peak RSS MiB',
    'reducer share',
  ];
  const right = [false, false, true, false, true, true, true, true, true, true, true, true, true];
  const body = report.rows.map((r) => [
    r.backend,
    r.provider,
    String(r.batch),
    r.schedule,
    f(r.imagesPerSecond.median, 2),
    f(r.imagesPerSecond.min, 2),
    f(r.latencyMs.p50, 1),
    f(r.latencyMs.p95, 1),
    r.speedup === null ? '—' : `${f(r.speedup, 2)}×`,
    `${f(r.idealSpeedup, 2)}×`,
    f(r.achievedOverIdeal, 2),
    f(r.peakRssMiB, 0),
    shareCell(r),
  ]);
  lines.push(...markdownTable(header, right, body));
  lines.push(
    '',
    `Whole-process peak RSS (loading, every configuration and the profiling runs): ${f(report.processMaxRssMiB, 0)} MiB.`,
    '',
  );
  lines.push('![speed-up against schedule](bench.svg)', '');
  lines.push('## How to read it', '');
  lines.push(
    '- **speed-up**: median time of the unreduced run ÷ median time of this run, same backend and batch.',
  );
  lines.push(
    "- **ideal**: the scheduler's FLOPs ratio (`pumer schedule`), i.e. the speed-up if time were proportional to FLOPs.",
  );
  lines.push('- **p50 / p95**: nearest-rank percentiles of the per-batch wall time.');
  lines.push(
    report.rssMethod === 'VmHWM'
      ? "- **peak RSS**: the kernel's resident-set high-water mark (VmHWM) during that configuration's runs, reset before each run. The process holds the model and every configuration's sessions at once, so differences between rows, not the absolute values, show what a schedule saves."
      : "- **peak RSS**: the resident set size right after each run of that configuration (sampled: no high-water mark on this platform). The process holds the model and every configuration's sessions at once.",
  );
  const methods = [
    ...new Set(
      report.rows.flatMap((r) => (r.reducerShare ? [`${r.backend}: ${r.reducerShare.method}`] : [])),
    ),
  ];
  if (methods.length > 0) {
    lines.push('- **reducer share**, measured as follows:');
    for (const mth of methods) lines.push(`  - ${mth}`);
  }
  const withOps = report.rows.filter(
    (r) => r.reducerShare?.opTypes && Object.keys(r.reducerShare.opTypes).length > 0,
  );
  if (withOps.length > 0) {
    lines.push('- **reducer op types** counted (kernel ms per forward pass, largest first):');
    for (const r of withOps) {
      const ops = Object.entries(r.reducerShare!.opTypes!)
        .sort((a, b) => b[1] - a[1])
        .map(([op, ms]) => `${op} ${ms.toFixed(2)}`)
        .join(', ');
      lines.push(`  - ${r.backend} batch ${r.batch} ${r.schedule}: ${ops}`);
    }
  }
  for (const note of report.notes) lines.push(`- ${note}`);
  lines.push('');
  return lines.join('\n');
}
