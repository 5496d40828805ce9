import type { BackendInfo } from '@pumer/core';
import type { Colors } from './io.js';

/** What every command says about the backend that ran: which, on what, why, and any warning. */
export interface BackendReport {
  readonly name: string;
  readonly provider: string;
  /** Why this backend ran: `auto`'s pick, or --backend. */
  readonly reason: string;
  readonly requested?: string;
  readonly fallbackReason?: string;
  /** The device, when the backend names it (a WebGPU adapter). */
  readonly adapter?: string;
  /** e.g. a software WebGPU adapter, far slower than the node backend. */
  readonly warning?: string;
}

export function backendReport(info: BackendInfo, reason: string): BackendReport {
  return {
    name: info.name,
    provider: info.provider,
    reason,
    ...(info.requested ? { requested: info.requested } : {}),
    ...(info.fallbackReason ? { fallbackReason: info.fallbackReason } : {}),
    ...(info.adapter ? { adapter: info.adapter } : {}),
    ...(info.warning ? { warning: info.warning } : {}),
  };
}

/** The text output's backend line (the warning, if any, goes to stderr separately: see `backendWarning`). */
export function backendLine(r: BackendReport, c: Colors): string {
  const on = r.adapter ? ` on ${r.adapter}` : '';
  return `${c.dim('backend ')} ${r.name} (${r.provider}${on}): ${r.reason}\n`;
}

/** A one-line warning for stderr, or '' when there is none. */
export function backendWarning(r: BackendReport): string {
  return r.warning ? `pumer: warning: ${r.warning}\n` : '';
}
