import { createCpuBackend } from '@pumer/backend-cpu';
import { goldenDir, runGoldenDocument } from '@pumer/testkit/node';
import { describe, expect, it } from 'vitest';
import { formatCaseLine, runGoldenParity } from './runner.js';

const tensor = (shape: number[], data: number[], dtype: 'float32' | 'int64' = 'float32') => ({
  dtype,
  shape,
  data,
});
const tomeDoc = () => ({
  format: 'pumer-golden/1',
  kind: 'tome_merge',
  name: 'tiny',
  params: { r: 1, class_token: false },
  inputs: { metric: tensor([1, 2, 2], [1, 0, 1, 0]), x: tensor([1, 2, 1], [1, 3]) },
  outputs: { x: tensor([1, 1, 1], [2]), size: tensor([1, 1, 1], [2]) },
});

describe('runGoldenDocument', () => {
  const cpu = createCpuBackend();
  it('passes a correct case and reports its error', async () => {
    const res = await runGoldenDocument(tomeDoc(), 'tiny', cpu);
    expect(res).toMatchObject({ name: 'tiny', passed: true, maxAbsErr: 0 });
    expect(formatCaseLine(res)).toBe('tiny  max_abs_err=0.00e+0  PASS');
  });
  it('fails a malformed document with a reason instead of throwing', async () => {
    const res = await runGoldenDocument({ format: 'x' }, 'broken', cpu);
    expect(res.passed).toBe(false);
    expect(res.reason).toMatch(/^malformed golden file: format must be/);
    expect(formatCaseLine(res)).toMatch(/^broken {2}max_abs_err=nan {2}FAIL malformed golden file/);
  });
  it('fails a wrong expected value, naming the tensor and the worst element', async () => {
    const doc = tomeDoc();
    doc.outputs.x.data = [2.01];
    const res = await runGoldenDocument(doc, 'tiny', cpu);
    expect(res.passed).toBe(false);
    expect(res.reason).toMatch(
      /x: 1 of 1 values out of tolerance, worst at flat index 0: got 2, expected 2.01/,
    );
    expect(res.maxAbsErr).toBeCloseTo(0.01, 6);
  });
  it('fails a wrong output shape', async () => {
    const doc = tomeDoc();
    doc.outputs.size = tensor([1, 2, 1], [1, 1]);
    const res = await runGoldenDocument(doc, 'tiny', cpu);
    expect(res.reason).toMatch(/size: shape \[1, 1, 1\], expected \[1, 2, 1\]/);
  });
});

describe('runGoldenParity', () => {
  it('throws a GOLDEN PumerError for a missing directory and a BACKEND one for an unknown backend', async () => {
    await expect(runGoldenParity({ dir: '/nonexistent/golden', backend: 'cpu' })).rejects.toMatchObject({
      code: 'GOLDEN',
    });
    await expect(runGoldenParity({ dir: goldenDir(), backend: 'tpu' })).rejects.toMatchObject({
      code: 'BACKEND',
      message: expect.stringMatching(/unknown backend "tpu"/),
    });
  });
});
