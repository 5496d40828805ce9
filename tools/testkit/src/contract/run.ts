import { type Backend, PumerError } from '@pumer/core';
import { CONTRACT_CASES, type ContractCase, type ContractGroup } from './cases.js';

/** One contract case's outcome, plain JSON (a browser page returns these to the test process). */
export interface ContractResult {
  readonly name: string;
  readonly group: ContractGroup;
  readonly passed: boolean;
  /** `value`, or the PumerError code the case expects. */
  readonly expected: string;
  /** `value`, the PumerError code thrown, or `thrown <name>: <message>` for any other throw. */
  readonly got: string;
  /** What the backend returned (good cases), so a failing value can be read — and the table regenerated. */
  readonly value?: unknown;
  /** The error message, when it threw. */
  readonly message?: string;
  /** Why it failed. */
  readonly reason?: string;
}

/** The first place `got` and `want` differ (numbers within tol·(1 + |want|)), or null. */
export function firstDifference(got: unknown, want: unknown, tol: number, path = ''): string | null {
  if (typeof want === 'number') {
    if (typeof got !== 'number') return `${path || 'value'}: got ${JSON.stringify(got)}, expected ${want}`;
    return Math.abs(got - want) <= tol * (1 + Math.abs(want))
      ? null
      : `${path || 'value'}: got ${got}, expected ${want}`;
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(got) || got.length !== want.length)
      return `${path}: got ${JSON.stringify(got)?.slice(0, 80)}, expected an array of ${want.length}`;
    for (let i = 0; i < want.length; i++) {
      const d = firstDifference(got[i], want[i], tol, `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (want !== null && typeof want === 'object') {
    if (got === null || typeof got !== 'object')
      return `${path}: got ${JSON.stringify(got)}, expected an object`;
    const keys = new Set([...Object.keys(want), ...Object.keys(got)]);
    for (const k of keys) {
      const d = firstDifference(
        (got as Record<string, unknown>)[k],
        (want as Record<string, unknown>)[k],
        tol,
        path ? `${path}.${k}` : k,
      );
      if (d) return d;
    }
    return null;
  }
  return Object.is(got, want)
    ? null
    : `${path || 'value'}: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`;
}

/** Runs one case; never throws. */
export async function runContractCase(c: ContractCase, backend: Backend): Promise<ContractResult> {
  const expected = 'error' in c.expect ? c.expect.error : 'value';
  const base = { name: c.name, group: c.group, expected };
  let value: unknown;
  try {
    value = await c.run(backend);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const got =
      err instanceof PumerError
        ? err.code
        : `thrown ${err instanceof Error ? err.name : typeof err}: ${message.split('\n')[0]}`;
    const passed = got === expected;
    return {
      ...base,
      passed,
      got,
      message,
      ...(passed ? {} : { reason: `expected ${expected}, got ${got}: ${message}` }),
    };
  }
  if ('error' in c.expect) {
    return { ...base, passed: false, got: 'value', value, reason: `expected ${expected}, got a value` };
  }
  const diff = firstDifference(value, c.expect.value, c.expect.tolerance);
  return { ...base, passed: diff === null, got: 'value', value, ...(diff ? { reason: diff } : {}) };
}

/** Every contract case on `backend`, in order. */
export async function runBackendContract(
  backend: Backend,
  cases: readonly ContractCase[] = CONTRACT_CASES,
): Promise<ContractResult[]> {
  const results: ContractResult[] = [];
  for (const c of cases) results.push(await runContractCase(c, backend));
  return results;
}
