import type { Backend } from '@pumer/core';
import { describe, expect, it } from 'vitest';
import { CONTRACT_CASES, type ContractCase } from './contract/cases.js';
import { runContractCase } from './contract/run.js';

/**
 * The backend contract suite as vitest tests: one `it` per case under `describe(label)`. `getBackend` is
 * called in each test (so it may be created in a beforeAll, or lazily).
 */
export function describeBackendContract(
  label: string,
  getBackend: () => Backend | Promise<Backend>,
  cases: readonly ContractCase[] = CONTRACT_CASES,
): void {
  describe(label, () => {
    for (const c of cases) {
      it(c.name, async () => {
        const r = await runContractCase(c, await getBackend());
        expect(r.got, r.reason).toBe(r.expected);
        expect(r.reason ?? '').toBe('');
      });
    }
  });
}
