import { reductionConfigFromReference, validateReductionConfig } from '@pumer/core';
import { modelParitySchedules, TINY_MODEL_LAYERS } from '@pumer/testkit';
import {
  checkpointDir,
  evalSetPath,
  hasSharedData,
  type ModelCheckpoint,
  modelsDir,
  readReference,
} from '@pumer/testkit/node';
import { describe, expect, it } from 'vitest';
import { evaluate, loadEvalSet } from '../node/evaluate.js';
import { loadVilt } from '../node/load.js';

/**
 * The whole stack (tokenizer, image preparation, embeddings, the reduce-capable encoder, head) against what
 * the paper authors' PyTorch code got on the ShapesVQA eval set, for one checkpoint and the three schedules.
 * One file per checkpoint, so vitest runs the two in parallel.
 */
const LOGIT_ATOL = 1e-3;
const ACCURACY_ATOL = 0.0025;

/**
 * Rows where the reference, computing in float32, resolved a near-tie the other way: a PuMer decision whose two
 * options differ by less than float32 can tell apart (tiny-vilt-shapes/pumer row 41: two merge partners 1.5e-7
 * apart in cosine at layer 3; -pumer/pumer row 39: partners 6.2e-8 apart at layer 1; -pumer/aggressive row 20:
 * two saliencies 2.4e-6 apart (relative) at the keep boundary of layer 0). Flipping that one decision alone
 * reproduces the reference row to 3e-6 (checked with an instrumented copy of the CPU backend); every other row
 * agrees to 2e-5. These rows are reported, not asserted; all others are held to LOGIT_ATOL.
 */
const FLOAT32_NEAR_TIES: Record<string, Record<string, readonly number[]>> = {
  'tiny-vilt-shapes': { pumer: [41] },
  'tiny-vilt-shapes-pumer': { pumer: [39], aggressive: [20] },
};

export function referenceSuite(checkpoint: ModelCheckpoint): void {
  // A skip where the reference data is missing, an error under CI (@pumer/testkit's hasSharedData).
  const present = hasSharedData('models', 'reference.json');
  describe.skipIf(!present)(
    `${checkpoint} against the PyTorch reference (${present ? modelsDir() : ''})`,
    () => {
      const set = present ? loadEvalSet(evalSetPath()) : { path: '', examples: [] };
      const loaded = present ? loadVilt(checkpointDir(checkpoint)) : null;

      it('tokenizes every eval question to the reference input_ids and attention_mask', () => {
        expect(set.examples).toHaveLength(400);
        for (const ex of set.examples) {
          const e = loaded!.tokenizer.encode(ex.question);
          expect(e.inputIds).toEqual(ex.inputIds);
          expect(e.attentionMask).toEqual(ex.attentionMask);
        }
      });

      for (const { name, config } of modelParitySchedules()) {
        it(`${name}: logits of the first 64 within ${LOGIT_ATOL}, accuracy within ${ACCURACY_ATOL}`, async () => {
          const ref = readReference()[checkpoint][name];
          // core's named schedule is the one the reference ran.
          const refConfig = ref.config
            ? validateReductionConfig(reductionConfigFromReference(ref.config), TINY_MODEL_LAYERS)
            : null;
          expect(config).toEqual(refConfig);

          const r = await evaluate({
            model: loaded!,
            data: set,
            schedule: config,
            batchSize: 100,
            returnLogits: true,
          });
          expect(r.n).toBe(ref.n);
          expect(r.tokenizerMismatches).toBe(0);
          expect(ref.logits).toHaveLength(64);
          const labels = loaded!.model.labels.length;
          const nearTies = FLOAT32_NEAR_TIES[checkpoint]?.[name] ?? [];
          let worst = 0;
          const rowErrors = ref.logits.map((row, i) => {
            const err = Math.max(...row.map((v, j) => Math.abs(r.logits!.data[i * labels + j] - v)));
            if (!nearTies.includes(i)) worst = Math.max(worst, err);
            return err;
          });
          const disagreements = r.predictions.filter((p, i) => p !== ref.predictions[i]).length;
          console.info(
            `${checkpoint} ${name}: accuracy ${r.accuracy} (reference ${ref.accuracy}), ${disagreements}/400 predictions differ, ` +
              `worst logit error ${worst.toExponential(2)}` +
              (nearTies.length
                ? ` (near-tie rows ${nearTies.map((i) => `${i}: ${rowErrors[i].toExponential(2)}`).join(', ')})`
                : '') +
              `, ${r.seconds.toFixed(1)} s`,
          );
          expect(worst).toBeLessThanOrEqual(LOGIT_ATOL);
          // A near-tie flips one keep/merge decision: the row moves a little, the answer must not.
          const argmax = (xs: ArrayLike<number>) =>
            Array.from(xs).reduce((b, v, j, a) => (v > a[b] ? j : b), 0);
          for (const i of nearTies) {
            const row = r.logits!.data.subarray(i * labels, (i + 1) * labels);
            expect(argmax(row)).toBe(argmax(ref.logits[i]));
            expect(rowErrors[i]).toBeLessThan(0.25);
          }
          expect(Math.abs(r.accuracy - ref.accuracy)).toBeLessThanOrEqual(ACCURACY_ATOL);
        }, 300_000);
      }
    },
  );
}
