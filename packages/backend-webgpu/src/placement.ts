import { isNode } from './environment.js';

/**
 * Which execution provider onnxruntime ran each node on. ORT says so only in its verbose session log
 * (`logSeverityLevel: 0`), which its wasm build prints to stdout/stderr: through `fs.writeSync` in Node and
 * through `console.log`/`console.error` (bound once, when the wasm module is instantiated) in browsers.
 * We intercept those sinks while a session is created, keep ORT's lines (and only those) and parse them.
 */

/** Where ORT placed the nodes of one (optimised) graph, per execution provider. */
export interface Placement {
  /**
   * Provider name as ORT prints it (e.g. WebGpuExecutionProvider) → op type of each node placed there.
   * When every node landed on one provider ORT prints only the count, so that list is empty.
   */
  readonly byProvider: Readonly<Record<string, readonly string[]>>;
  /** Provider name → number of nodes placed there. */
  readonly nodeCounts: Readonly<Record<string, number>>;
}

/** ORT log lines start like `2026-11-24 00:59:16.879038 [V:onnxruntime:, session_state.cc:1383 …]`. */
const ORT_LINE = /\[[VIWEF]:onnxruntime:/;
const PROVIDER_HEADER = /(All nodes|Node\(s\)) placed on \[(\w+)\]\. Number of nodes: (\d+)/;
const NODE_LINE = /VerifyEachNodeIsAssignedToAnEp\]\s{2,}(\S+) \((.*)\)\s*$/;

/** Parses ORT's "Node placements" block. Lines that are not part of it are ignored. */
export function parsePlacement(lines: readonly string[]): Placement {
  const byProvider: Record<string, string[]> = {};
  const nodeCounts: Record<string, number> = {};
  let current: string[] | null = null;
  for (const raw of lines) {
    for (const line of raw.split('\n')) {
      const header = PROVIDER_HEADER.exec(line);
      if (header) {
        const provider = header[2]!;
        nodeCounts[provider] = (nodeCounts[provider] ?? 0) + Number(header[3]);
        current = byProvider[provider] ??= [];
        if (header[1] === 'All nodes') current = null;
        continue;
      }
      const node = NODE_LINE.exec(line);
      if (node && current) current.push(node[1]!);
      else if (!/VerifyEachNodeIsAssignedToAnEp/.test(line)) current = null;
    }
  }
  return { byProvider, nodeCounts };
}

/** Op types of `placement` on providers other than `onProvider`, without ORT's own copy nodes. */
export function opsOffloadedFrom(placement: Placement, onProvider: string): string[] {
  const ops = new Set<string>();
  for (const [provider, list] of Object.entries(placement.byProvider)) {
    if (provider === onProvider) continue;
    for (const op of list) if (!op.startsWith('Memcpy')) ops.add(op);
  }
  return [...ops].sort();
}

type LineSink = (line: string) => void;
const sinks = new Set<LineSink>();
let installed = false;

/**
 * Installs the interceptors once. Outside a capture they pass everything through untouched; inside one,
 * ORT's lines go to the capture instead of the terminal (the verbose log runs to hundreds of lines).
 */
async function installInterceptors(): Promise<void> {
  if (installed) return;
  installed = true;
  const route = (text: string): boolean => {
    if (sinks.size === 0 || !ORT_LINE.test(text)) return false;
    for (const sink of sinks) sink(text);
    return true;
  };
  if (isNode()) {
    const spec = 'node:fs';
    const fsModule = (await import(/* @vite-ignore */ spec)) as { default: typeof import('node:fs') };
    const fs = fsModule.default;
    const writeSync = fs.writeSync;
    // ORT's Node glue calls fs.writeSync(1 | 2, text) through the CommonJS fs object, which this is.
    fs.writeSync = function (this: unknown, fd: number, data: unknown, ...rest: unknown[]) {
      if ((fd === 1 || fd === 2) && typeof data === 'string' && route(data)) return Buffer.byteLength(data);
      return (writeSync as (...a: unknown[]) => number).call(this, fd, data, ...rest);
    } as typeof fs.writeSync;
    return;
  }
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[level];
    console[level] = (...args: unknown[]) => {
      if (args.length > 0 && typeof args[0] === 'string' && route(args.map(String).join(' '))) return;
      original.apply(console, args);
    };
  }
}

/**
 * Must run before onnxruntime-web instantiates its wasm in a browser (its console sinks are bound then);
 * in Node any time works.
 */
export function prepareLogCapture(): Promise<void> {
  return installInterceptors();
}

/** Runs `work` while collecting ORT's log lines; returns its result and the lines. */
export async function captureOrtLog<T>(work: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  await installInterceptors();
  const lines: string[] = [];
  const sink: LineSink = (l) => lines.push(l);
  sinks.add(sink);
  try {
    return { result: await work(), lines };
  } finally {
    sinks.delete(sink);
  }
}
