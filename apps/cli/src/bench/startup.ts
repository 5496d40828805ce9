import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deflateSync } from 'node:zlib';
import type { RunReport, RunStartup } from '../commands/run.js';
import { CliError } from '../errors.js';
import { type MachineInfo, machineInfo } from './machine.js';
import { median } from './stats.js';

/**
 * Time to the first answer (docs/benchmark.md, "Start-up"): `pumer run` in a fresh process per try, with a cold
 * graph cache (emptied before the try) and a warm one (filled by an untimed run first), tries interleaved so
 * the machine's noise falls on both alike. Each try reports its own phases (run --json's `startup`) and peak
 * RSS; the wall time is the parent's, from spawn to exit.
 */

/** One try: which cache, the parent's wall time, and what the child reported. */
export interface StartupTry {
  readonly cache: 'cold' | 'warm';
  /** From spawning the process to its exit. */
  readonly wallMs: number;
  /** The child's own phases (timeToAnswerMs: from its process start to the answer; peakRssMiB). */
  readonly startup: RunStartup;
}

/** Medians over one cache state's tries. */
export interface StartupSummary {
  readonly tries: number;
  readonly timeToAnswerMs: number;
  readonly wallMs: number;
  readonly peakRssMiB: number;
  /** Each phase's median (null: the backend has no such phase). */
  readonly phases: Readonly<Record<PhaseName, number | null>>;
}

export const PHASES = [
  'readWeightsMs',
  'hashWeightsMs',
  'buildGraphMs',
  'writeGraphMs',
  'createSessionMs',
  'firstRunMs',
] as const;
export type PhaseName = (typeof PHASES)[number];

export interface StartupReport {
  readonly format: 'pumer-bench-startup/1';
  readonly command: string;
  readonly date: string;
  readonly machine: MachineInfo;
  readonly geometry: string;
  readonly checkpoint: string;
  /** The checkpoint's weight file size: the unit of the peak-RSS budget (2.5x). */
  readonly weightsBytes: number;
  readonly backend: string;
  readonly schedule: string;
  /** The photo's size (a generated width x height image, as a phone photo is). */
  readonly image: string;
  readonly runs: readonly StartupTry[];
  /** The machine's 1-minute load average before and after the tries (other work slows every phase). */
  readonly loadAverage: { readonly before: number; readonly after: number };
  readonly cold: StartupSummary;
  readonly warm: StartupSummary;
  readonly notes: readonly string[];
}

/** Medians of a set of tries. */
export function summarise(tries: readonly StartupTry[]): StartupSummary {
  const phase = (p: PhaseName) => {
    const xs = tries.map((t) => t.startup[p]).filter((v): v is number => v !== null);
    return xs.length === 0 ? null : median(xs);
  };
  return {
    tries: tries.length,
    timeToAnswerMs: median(tries.map((t) => t.startup.timeToAnswerMs)),
    wallMs: median(tries.map((t) => t.wallMs)),
    peakRssMiB: median(tries.map((t) => t.startup.peakRssMiB)),
    phases: Object.fromEntries(PHASES.map((p) => [p, phase(p)])) as Record<PhaseName, number | null>,
  };
}

/** How to start `pumer`: its TypeScript source through tsx, or the built bin.js beside this bundle. */
export function cliCommand(): { file: string; args: string[] } {
  const here = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    const tsx = createRequire(here).resolve('tsx');
    return {
      file: path.join(path.dirname(here), '..', 'bin.ts'),
      args: ['--import', pathToFileURL(tsx).href, '--conditions=@pumer/source'],
    };
  }
  return { file: path.join(path.dirname(here), 'bin.js'), args: [] };
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A smooth RGB test photo as PNG bytes (the decoder's path is the same for every try). */
export function photoPng(width: number, height: number): Uint8Array {
  const row = 1 + 3 * width;
  const raw = Buffer.alloc(row * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = y * row + 1 + 3 * x;
      raw[o] = (x * 255) / width;
      raw[o + 1] = (y * 255) / height;
      raw[o + 2] = ((x + y) * 127) / (width + height);
    }
  }
  const chunk = (type: string, data: Uint8Array) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array()),
  ]);
}

export interface StartupPlan {
  readonly checkpoint: string;
  readonly backend: string;
  readonly schedule: string;
  readonly tries: number;
  readonly imageWidth: number;
  readonly imageHeight: number;
  /** How to start pumer (default: cliCommand()). */
  readonly cli?: { file: string; args: string[] };
  /** Called after each try (progress). */
  readonly onTry?: (done: number, total: number) => void;
}

/** One `pumer run --json` in a fresh process with the graph cache at `cacheDir`. */
function runOnce(
  plan: StartupPlan,
  image: string,
  cacheDir: string,
  cache: StartupTry['cache'],
): Promise<StartupTry> {
  const { file, args } = plan.cli ?? cliCommand();
  const argv = [
    ...args,
    file,
    'run',
    '--model',
    plan.checkpoint,
    '--image',
    image,
    '--backend',
    plan.backend,
  ];
  argv.push('--schedule', plan.schedule, '--json');
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      argv,
      { env: { ...process.env, PUMER_GRAPH_CACHE: cacheDir }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const wallMs = performance.now() - started;
        let report: RunReport | undefined;
        try {
          report = JSON.parse(stdout) as RunReport;
        } catch {
          report = undefined;
        }
        if (err || !report?.startup) {
          const why = stderr.trim().split('\n').pop() || (err?.message ?? 'no JSON report');
          reject(new CliError(`startup try (${cache} graph cache) failed: ${why}`));
          return;
        }
        resolve({ cache, wallMs, startup: report.startup });
      },
    );
  });
}

/**
 * Runs the tries: a warm cache filled by one untimed run, then cold and warm tries alternating (the cold cache
 * emptied before each). Temporary folders (the photo, both caches) are removed at the end.
 */
export async function measureStartup(plan: StartupPlan): Promise<StartupTry[]> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'pumer-startup-'));
  try {
    const image = path.join(work, `photo-${plan.imageWidth}x${plan.imageHeight}.png`);
    writeFileSync(image, photoPng(plan.imageWidth, plan.imageHeight));
    const cold = path.join(work, 'cold-cache');
    const warm = path.join(work, 'warm-cache');
    await runOnce(plan, image, warm, 'warm');
    const runs: StartupTry[] = [];
    const total = 2 * plan.tries;
    for (let i = 0; i < plan.tries; i++) {
      rmSync(cold, { recursive: true, force: true });
      runs.push(await runOnce(plan, image, cold, 'cold'));
      plan.onTry?.(runs.length, total);
      runs.push(await runOnce(plan, image, warm, 'warm'));
      plan.onTry?.(runs.length, total);
    }
    return runs;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The report of a set of tries. */
export function startupReport(
  fields: Omit<StartupReport, 'format' | 'date' | 'machine' | 'cold' | 'warm' | 'notes'>,
): StartupReport {
  const notes = [
    "Cold: an empty graph cache (the graph is built, written and stored); warm: the graph cache holds it. Both read the checkpoint from the operating system's file cache: the first run after a reboot also waits for the disk.",
    'Time to answer: from the process start to the answer, as the process measures it (performance.now()); wall: from spawn to exit, as the parent measures it.',
    "A benchmark measures; it asserts nothing. Tries alternate cold and warm so the machine's noise falls on both alike.",
  ];
  return {
    format: 'pumer-bench-startup/1',
    date: new Date().toISOString(),
    machine: machineInfo(),
    ...fields,
    cold: summarise(fields.runs.filter((r) => r.cache === 'cold')),
    warm: summarise(fields.runs.filter((r) => r.cache === 'warm')),
    notes,
  };
}

const s = (ms: number | null) => (ms === null ? '–' : (ms / 1000).toFixed(2));

/** The report as Markdown: medians, then every try. */
export function startupMarkdown(r: StartupReport): string {
  const budget = (2.5 * r.weightsBytes) / 2 ** 20;
  const lines = [
    `# Time to the first answer: ${r.geometry} on ${r.backend}`,
    '',
    `\`${r.command}\` — ${r.date}, ${r.machine.cpu} (${r.machine.cores} cores), Node ${r.machine.node}.`,
    '',
    `A ${r.image} photo, schedule \`${r.schedule}\`, weights ${(r.weightsBytes / 2 ** 20).toFixed(0)} MiB (peak RSS budget 2.5× = ${budget.toFixed(0)} MiB). Load average ${r.loadAverage.before.toFixed(1)} before, ${r.loadAverage.after.toFixed(1)} after.`,
    '',
    '| graph cache | tries | time to answer (s) | wall (s) | read weights | hash weights | build graph | write graph | create session | first run | peak RSS (MiB) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const [name, sum] of [
    ['cold', r.cold],
    ['warm', r.warm],
  ] as const) {
    lines.push(
      `| ${name} | ${sum.tries} | **${s(sum.timeToAnswerMs)}** | ${s(sum.wallMs)} | ${PHASES.map((p) => s(sum.phases[p])).join(' | ')} | ${sum.peakRssMiB.toFixed(0)} |`,
    );
  }
  lines.push('', 'Medians, phases in seconds. Every try:', '');
  lines.push('| # | graph cache | time to answer (s) | wall (s) | cache | peak RSS (MiB) |');
  lines.push('| --- | --- | --- | --- | --- | --- |');
  r.runs.forEach((t, i) => {
    lines.push(
      `| ${i + 1} | ${t.cache} | ${s(t.startup.timeToAnswerMs)} | ${s(t.wallMs)} | ${t.startup.graphCache ?? '–'} | ${t.startup.peakRssMiB.toFixed(0)} |`,
    );
  });
  lines.push('', ...r.notes.map((n) => `- ${n}`), '');
  return lines.join('\n');
}
