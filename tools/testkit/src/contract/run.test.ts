import { type Backend, floatTensor, PumerError } from '@pumer/core';
import { describe, expect, it } from 'vitest';
import { CONTRACT_CASES, type ContractCase } from './cases.js';
import { firstDifference, runBackendContract, runContractCase } from './run.js';

const noBackend = {} as Backend;
const valueCase = (run: () => Promise<unknown>, value: unknown): ContractCase => ({
  name: 'v',
  group: 'merge',
  run,
  expect: { value, tolerance: 1e-5 },
});
const errorCase = (run: () => Promise<unknown>): ContractCase => ({
  name: 'e',
  group: 'prune',
  run,
  expect: { error: 'VALUE' },
});

describe('runContractCase', () => {
  it('passes a value within tolerance and fails one outside it, naming the place', async () => {
    const ok = await runContractCase(
      valueCase(async () => ({ a: [1, 2.000001] }), { a: [1, 2] }),
      noBackend,
    );
    expect(ok).toMatchObject({ passed: true, expected: 'value', got: 'value' });
    const off = await runContractCase(
      valueCase(async () => ({ a: [1, 2.1] }), { a: [1, 2] }),
      noBackend,
    );
    expect(off).toMatchObject({ passed: false, reason: 'a[1]: got 2.1, expected 2' });
  });

  it('compares error codes, and reports a value, a wrong code or a foreign error as a failure', async () => {
    const right = await runContractCase(
      errorCase(async () => {
        throw new PumerError('VALUE', 'keep must be >= 1');
      }),
      noBackend,
    );
    expect(right).toMatchObject({ passed: true, got: 'VALUE', message: 'keep must be >= 1' });
    const wrong = await runContractCase(
      errorCase(async () => {
        throw new PumerError('SHAPE', 'x');
      }),
      noBackend,
    );
    expect(wrong).toMatchObject({ passed: false, got: 'SHAPE', reason: 'expected VALUE, got SHAPE: x' });
    const foreign = await runContractCase(
      errorCase(async () => {
        throw new TypeError('cannot read properties of undefined');
      }),
      noBackend,
    );
    expect(foreign).toMatchObject({
      passed: false,
      got: 'thrown TypeError: cannot read properties of undefined',
    });
    const none = await runContractCase(
      errorCase(async () => 1),
      noBackend,
    );
    expect(none).toMatchObject({ passed: false, got: 'value', reason: 'expected VALUE, got a value' });
  });

  it('treats null, shapes and missing keys exactly', () => {
    expect(firstDifference({ size: null }, { size: null }, 0)).toBeNull();
    expect(firstDifference({ size: { shape: [1] } }, { size: null }, 0)).toMatch(/^size: got/);
    expect(firstDifference({ x: [1, 2] }, { x: [1, 2, 3] }, 0)).toMatch(
      /^x: got \[1,2\], expected an array of 3/,
    );
    expect(firstDifference({ extra: 1 }, {}, 0)).toMatch(/^extra:/);
  });
});

describe('the contract cases', () => {
  it('have unique names, and every good case a hard-coded value', () => {
    const names = CONTRACT_CASES.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    for (const group of ['saliency', 'prune', 'merge', 'block'])
      expect(CONTRACT_CASES.filter((c) => c.group === group).length).toBeGreaterThanOrEqual(5);
  });

  it('all fail on a backend that implements nothing (no case passes by accident)', async () => {
    const empty = {
      name: 'empty',
      info: () => ({ name: 'empty', provider: 'none' }),
      pruner: { saliency: async () => floatTensor([0], [1, 1]), prune: async () => ({}) },
      merger: { merge: async () => ({}) },
      runBlock: async () => ({ trace: {} }),
    } as unknown as Backend;
    const results = await runBackendContract(empty);
    expect(results.filter((r) => r.passed).map((r) => r.name)).toEqual([]);
  });
});
