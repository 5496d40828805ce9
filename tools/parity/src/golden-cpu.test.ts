import { existsSync, readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultGoldenDir } from './paths.js';
import { type ParityReport, runGoldenParity } from './runner.js';

const dir = defaultGoldenDir();
const files = existsSync(dir)
  ? readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
  : [];

describe('golden vectors on the cpu backend', () => {
  let report: ParityReport;
  beforeAll(async () => {
    report = await runGoldenParity({ dir, backend: 'cpu' });
  });

  it('finds the shared golden set', () => {
    expect(existsSync(dir), `golden directory ${dir} is missing`).toBe(true);
    expect(files.length).toBeGreaterThanOrEqual(15);
    expect(report.cases).toHaveLength(files.length);
  });

  it.each(files)('%s', (file) => {
    const c = report.cases.find((r) => r.file === file);
    expect(c, `no result for ${file}`).toBeDefined();
    expect(c!.reason ?? '').toBe('');
    expect(c!.passed).toBe(true);
    expect(c!.maxAbsErr).toBeLessThan(1e-4);
  });
});
