import { describe, expect, it } from 'vitest';
import { validateReductionConfig } from './config.js';
import { ConfigError } from './errors.js';
import type { MeterGeometry } from './meter.js';
import {
  crossLayerFlops,
  METER_B16_288_GEOMETRY,
  METER_B16_384_GEOMETRY,
  meterImageTokens,
  meterSchedule,
} from './meter-scheduler.js';
import { meterStepsFromLayerIndices } from './rules/co-attention-plan.js';
import { namedSchedule } from './schedules.js';

/** The tiny models of the shared METER data: D 32, 4 heads, F 64, 2 steps, 64 px in 16 px patches, 16 text tokens. */
const TINY: MeterGeometry = {
  ...METER_B16_384_GEOMETRY,
  hiddenSize: 32,
  numHeads: 4,
  intermediateSize: 64,
  numSteps: 2,
  maxTextLength: 16,
  text: { ...METER_B16_384_GEOMETRY.text, numLayers: 2, hiddenSize: 32, numHeads: 4, intermediateSize: 64 },
  image: { ...METER_B16_384_GEOMETRY.image, width: 32, numBlocks: 2, numHeads: 4, imageSize: 64 },
};

function authors(layerIdx: number[], p: number, r: number, t: number, numSteps: number) {
  return validateReductionConfig(
    {
      reduceLayers: meterStepsFromLayerIndices(layerIdx, numSteps),
      pruneRatio: p,
      mergeRatio: r,
      textMergeRatio: t,
      saliency: 'mean_head',
      mergeStyle: 'tome',
    },
    numSteps,
  );
}

describe('meterSchedule token counts', () => {
  it.each([
    ['VQA', [0, 2, 4, 6], 0.2, 0.2, [13, 11, 10, 7]],
    ['VE', [0, 2, 4, 6], 0.3, 0.5, [13, 7, 10, 3]],
    ['NLVR2', [2, 4, 6], 0.3, 0.5, [16, 17, 13, 7]],
  ] as const)('the tiny %s model: the (text, image) counts of its cases.json', (_, layers, p, r, counts) => {
    const s = meterSchedule(TINY, authors([...layers], p, r, 0.2, 2));
    expect(s.imageTokens).toBe(17);
    expect(s.steps.flatMap((x) => [x.textTokens, x.imageTokens])).toEqual(counts);
  });

  it('METER-B/16: 325 image tokens at 288 px, 577 at 384 px, 40 text tokens', () => {
    expect(meterImageTokens(METER_B16_288_GEOMETRY)).toBe(325);
    expect(meterImageTokens(METER_B16_384_GEOMETRY)).toBe(577);
    expect(meterSchedule(METER_B16_384_GEOMETRY, null).textTokens).toBe(40);
  });

  it('meter-vqa at 384 px: step 0 prunes round(0.2·577) = 115 and merges 115 of the 462 kept, text 40 → 32', () => {
    const s = meterSchedule(METER_B16_384_GEOMETRY, namedSchedule('meter-vqa', 6));
    expect(s.steps[0]!.plan).toMatchObject({ kind: 'pumer', pruneCount: 115, keep: 462, imageMergeR: 115 });
    expect(s.steps.map((x) => [x.textTokens, x.imageTokens])).toEqual([
      [32, 347],
      [26, 209],
      [21, 125],
      [17, 75],
      [17, 75],
      [17, 75],
    ]);
  });

  it('meter-nlvr2 leaves step 0 alone and reduces steps 1-3', () => {
    const s = meterSchedule(METER_B16_288_GEOMETRY, namedSchedule('meter-nlvr2', 6));
    expect(s.steps.map((x) => x.plan.kind)).toEqual(['none', 'pumer', 'pumer', 'pumer', 'none', 'none']);
  });
});

describe('meterSchedule FLOPs and memory', () => {
  it('a tiny unreduced text layer: self-attention 163840 + cross-attention 169984 + FFN 131072', () => {
    expect(crossLayerFlops(TINY, 16, 17, 16)).toBe(163840 + 169984 + 131072);
  });

  it('charges the text layer its attentions at the tokens before the reduce step and its FFN after', () => {
    const s = meterSchedule(TINY, authors([0], 0.2, 0.2, 0.2, 2));
    const step = s.steps[0]!;
    expect(step.textLayerFlops).toBe(crossLayerFlops(TINY, 16, 17, 13));
    // The image layer reads the reduced image tokens and the text layer's output.
    expect(step.imageLayerFlops).toBe(crossLayerFlops(TINY, 11, 13, 11));
    expect(step.flops).toBe(step.textLayerFlops + step.imageLayerFlops);
  });

  it('unreduced: speed-up exactly 1, the encoders the same with and without a schedule', () => {
    const off = meterSchedule(METER_B16_384_GEOMETRY, null);
    expect(off.idealSpeedup).toBe(1);
    expect(off.coAttentionIdealSpeedup).toBe(1);
    const on = meterSchedule(METER_B16_384_GEOMETRY, namedSchedule('meter-ve', 6));
    expect(on.encoders).toEqual(off.encoders);
    expect(on.baselineFlops).toBe(off.flops);
  });

  it.each(['meter-vqa', 'meter-ve', 'meter-nlvr2'])(
    '%s: the whole model gains less than the co-attention part, whose encoders are not reduced',
    (name) => {
      for (const g of [METER_B16_288_GEOMETRY, METER_B16_384_GEOMETRY]) {
        const s = meterSchedule(g, namedSchedule(name, 6));
        expect(s.idealSpeedup).toBeGreaterThan(1);
        expect(s.coAttentionIdealSpeedup).toBeGreaterThan(s.idealSpeedup);
        expect(s.flops).toBe(s.encoders.flops + s.coAttentionFlops);
        expect(s.totalActivationBytes).toBeLessThan(s.baselineTotalActivationBytes);
      }
    },
  );

  it('the harder VE schedule is ideally faster than VQA at both sizes', () => {
    for (const g of [METER_B16_288_GEOMETRY, METER_B16_384_GEOMETRY]) {
      const vqa = meterSchedule(g, namedSchedule('meter-vqa', 6)).idealSpeedup;
      expect(meterSchedule(g, namedSchedule('meter-ve', 6)).idealSpeedup).toBeGreaterThan(vqa);
    }
  });

  it('the peak drops even when step 0 reduces: its image layer already runs on the reduced image tokens', () => {
    const on = meterSchedule(METER_B16_384_GEOMETRY, namedSchedule('meter-vqa', 6));
    const off = meterSchedule(METER_B16_384_GEOMETRY, null);
    // The text layer of step 0 sees every token either way; the unreduced peak is the image layer's.
    expect(on.steps[0]!.textLayerActivationBytes).toBe(off.steps[0]!.textLayerActivationBytes);
    expect(off.baselinePeakActivationBytes).toBe(off.steps[0]!.imageLayerActivationBytes);
    expect(on.peakActivationBytes).toBeLessThan(on.baselinePeakActivationBytes);
    expect(on.steps[5]!.activationBytes).toBeLessThan(on.steps[0]!.activationBytes);
  });
});

describe('meterSchedule checks', () => {
  it('rejects a reduce step beyond the steps, a bad geometry and a bad text length', () => {
    expect(() => meterSchedule(TINY, namedSchedule('meter-vqa', 6))).toThrow(ConfigError);
    expect(() => meterSchedule({ ...TINY, numHeads: 5 }, null)).toThrow(/numHeads/);
    expect(() => meterSchedule({ ...TINY, image: { ...TINY.image, imageSize: 60 } }, null)).toThrow(
      /imageSize/,
    );
    expect(() => meterSchedule(TINY, null, { textTokens: 0 })).toThrow(/textTokens/);
  });
});
