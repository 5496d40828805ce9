import { floatTensor, intTensor } from '@pumer/core';
import {
  coAttentionStepArgsFromGolden,
  compareCoAttentionStep,
  parseMeterGoldenCase,
  runMeterGoldenDocument,
} from '@pumer/testkit';
import { meterGoldenFiles, readMeterGoldenDocument } from '@pumer/testkit/node';
import { describe, expect, it } from 'vitest';
import { createCpuBackend, runCoAttentionStepSync } from '../backend.js';

// Every golden co-attention step of the authors' METER (docs/meter.md, "Reference data") on the CPU reference.
describe('METER golden co-attention steps on cpu', () => {
  const backend = createCpuBackend();
  const files = meterGoldenFiles();
  it('finds the 11 cases', () => {
    expect(files).toHaveLength(11);
  });
  it.each(files)('%s', async (file) => {
    const r = await runMeterGoldenDocument(readMeterGoldenDocument(file), file, backend);
    expect(r.reason ?? '').toBe('');
    expect(r.passed).toBe(true);
  });
  it('the comparison catches a swapped kept index, a changed value and a wrong length', () => {
    const file = 'meter_cross1_p0.3_r0.5_t0.2_B2_T10_I26.json';
    const c = parseMeterGoldenCase(readMeterGoldenDocument(file), file);
    const res = runCoAttentionStepSync(coAttentionStepArgsFromGolden(c));
    expect(compareCoAttentionStep(res, c).ok).toBe(true);
    const keep = Int32Array.from(res.trace.keepIdx!.data);
    [keep[0], keep[1]] = [keep[1]!, keep[0]!];
    const swapped = { ...res, trace: { ...res.trace, keepIdx: intTensor(keep, res.trace.keepIdx!.shape) } };
    expect(compareCoAttentionStep(swapped, c).problems.join()).toMatch(/kept_index: differs at flat index 0/);
    const image = Float32Array.from(res.image.data);
    image[5]! += 1e-3;
    const changed = { ...res, image: floatTensor(image, res.image.shape) };
    expect(compareCoAttentionStep(changed, c).problems.join()).toMatch(
      /image_states: 1 of .* out of tolerance/,
    );
    const shorter = { ...res, text: floatTensor(res.text.data.subarray(0, 32 * 2), [2, 1, 32]) };
    expect(compareCoAttentionStep(shorter, c).problems.join()).toMatch(/text_len: got 1, expected/);
  });
});
