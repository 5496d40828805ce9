import { goldenDir, goldenFiles, hasSharedData } from '@pumer/testkit/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ParityReport, runGoldenParity } from './runner.js';

const present = hasSharedData('golden');
const files = present ? goldenFiles() : [];

describe.skipIf(!present)('golden vectors on the cpu backend', () => {
  let report: ParityReport;
  beforeAll(async () => {
    report = await runGoldenParity({ dir: goldenDir(), backend: 'cpu' });
  });

  it('finds the shared golden set', () => {
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
