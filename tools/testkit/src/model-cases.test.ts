import { namedSchedule, reductionConfigFromReference, validateReductionConfig } from '@pumer/core';
import { describe, expect, it } from 'vitest';
import { evalBatch, evalRows, MODEL_CHECKPOINTS, readReference, referenceLogits } from './model-cases.js';
import { modelParitySchedules, TINY_MODEL_LAYERS } from './model-schedules.js';
import { floatTensor } from '@pumer/core';
import { hasSharedData } from './shared-data.js';

describe.skipIf(!hasSharedData('models', 'reference.json'))('model cases of the reference data', () => {
  it('our schedules are the ones the reference ran', () => {
    const ref = readReference();
    for (const model of MODEL_CHECKPOINTS) {
      for (const s of modelParitySchedules()) {
        const theirs = ref[model][s.name].config;
        expect(s.config).toEqual(
          theirs ? validateReductionConfig(reductionConfigFromReference(theirs), TINY_MODEL_LAYERS) : null,
        );
      }
    }
    expect(modelParitySchedules(12)[1]!.config).toEqual(namedSchedule('pumer', 12));
  });

  it('reads eval rows with absolute image paths and the reference token ids, and batches them', () => {
    const rows = evalRows(3);
    expect(rows).toHaveLength(3);
    expect(rows[0]!.image).toMatch(/^\/.*images\/0000\.png$/);
    expect(rows[0]!.inputIds).toHaveLength(16);
    const batch = evalBatch(rows, () => floatTensor(new Float32Array(12), [3, 2, 2]));
    expect(batch.inputIds.shape).toEqual([3, 16]);
    expect(batch.pixelValues.shape).toEqual([3, 3, 2, 2]);
    expect(referenceLogits('tiny-vilt-shapes', 'pumer', 2).shape[0]).toBe(2);
  });
});
