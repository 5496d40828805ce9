import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Backend, findBackend, type ViltOutputs } from '@pumer/core';
import { buildViltGraph } from '@pumer/onnx/graph';
import { writeOnnx } from '@pumer/onnx/node';
import { maxAbsDiff, modelParitySchedules, TRACE_INDICES } from '@pumer/testkit';
import {
  checkpointDir,
  evalBatch,
  evalRows,
  hasSharedData,
  MODEL_CHECKPOINTS,
  type ModelCheckpoint,
  referenceLogits,
} from '@pumer/testkit/node';
import { decodeImageFile, type LoadedVilt, loadVilt, prepareImage } from '@pumer/vilt/node';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { createNodeBackend } from './backend.js';

const SCHEDULES = modelParitySchedules();
const ROWS = 32;

const loaded = new Map<string, LoadedVilt>();
function checkpoint(name: ModelCheckpoint): LoadedVilt {
  if (!loaded.has(name)) loaded.set(name, loadVilt(checkpointDir(name)));
  return loaded.get(name)!;
}

/** The first `n` eval rows as one batch, with the reference tokenizer's ids and masks. */
function batch(m: LoadedVilt, n: number) {
  return evalBatch(evalRows(n), (path) => prepareImage(decodeImageFile(path), m.preprocessor, path));
}

/** Per-row max |a - b| of two [B, L] logit tensors. */
function rowDiffs(a: Float32Array, b: Float32Array, labels: number): number[] {
  const rows = a.length / labels;
  return Array.from({ length: rows }, (_, r) => {
    let m = 0;
    for (let k = 0; k < labels; k++) m = Math.max(m, Math.abs(a[r * labels + k] - b[r * labels + k]));
    return m;
  });
}

/** Rows whose every trace index (keepIdx, imageDst, textDst, tokenDst) agrees between two runs. */
function rowsWithSameTrace(x: ViltOutputs, y: ViltOutputs, rows: number): boolean[] {
  const same = new Array(rows).fill(true);
  x.layers.forEach((lx, l) => {
    const ly = y.layers[l];
    expect(ly.kind).toBe(lx.kind);
    expect([ly.textOut, ly.imageOut]).toEqual([lx.textOut, lx.imageOut]);
    for (const key of TRACE_INDICES) {
      const a = lx[key];
      const b = ly[key];
      expect(a === undefined).toBe(b === undefined);
      if (!a || !b) continue;
      expect(b.shape).toEqual(a.shape);
      const w = a.shape[1];
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < w; j++) if (a.data[r * w + j] !== b.data[r * w + j]) same[r] = false;
      }
    }
  });
  return same;
}

describe.skipIf(!hasSharedData('models'))('tiny ViLT checkpoints on onnxruntime-node', async () => {
  const backend = await createNodeBackend({ provider: 'cpu' });
  afterAll(() => backend.dispose());

  for (const name of MODEL_CHECKPOINTS) {
    for (const { name: schedule, config } of SCHEDULES) {
      it(`${name} / ${schedule}: logits match the reference PyTorch run`, async () => {
        const m = checkpoint(name);
        const out = await backend.runVilt(m.model, batch(m, ROWS), config);
        const labels = m.model.labels.length;
        const diffs = rowDiffs(out.logits.data, referenceLogits(name, schedule, ROWS).data, labels);
        // Identical-looking background patches give near-tied saliencies (gaps of 1e-7): a float-rounding flip of
        // two such patches changes a row slightly. Every row but such flips agrees to 1e-4; no row may be far off.
        const close = diffs.filter((d) => d <= 1e-4).length;
        expect(close).toBeGreaterThanOrEqual(schedule === 'unreduced' ? ROWS : ROWS - 2);
        expect(Math.max(...diffs)).toBeLessThan(schedule === 'unreduced' ? 1e-4 : 0.25);
        expect(out.layers).toHaveLength(m.model.geometry.numLayers);
      }, 30_000);
    }
  }

  it('matches the CPU reference backend: logits within 1e-3, trace indices identical', async () => {
    await import('@pumer/backend-cpu');
    const cpu: Backend = await findBackend('cpu');
    for (const name of MODEL_CHECKPOINTS) {
      const m = checkpoint(name);
      const inputs = batch(m, ROWS);
      for (const { name: schedule, config } of SCHEDULES) {
        const [a, b] = [
          await backend.runVilt(m.model, inputs, config),
          await cpu.runVilt(m.model, inputs, config),
        ];
        const same = rowsWithSameTrace(a, b, ROWS);
        const diffs = rowDiffs(a.logits.data, b.logits.data, m.model.labels.length);
        const sameRows = same.filter(Boolean).length;
        // Rows whose traces agree must agree on logits; near-tied saliencies may flip a few rows' indices.
        expect(sameRows, `${name}/${schedule}: rows with identical traces`).toBeGreaterThanOrEqual(ROWS - 3);
        const labels = m.model.labels.length;
        const argmax = (x: Float32Array, r: number) => {
          let best = 0;
          for (let j = 1; j < labels; j++) if (x[r * labels + j] > x[r * labels + best]) best = j;
          return best;
        };
        diffs.forEach((d, r) => {
          if (same[r]) expect(d, `${name}/${schedule} row ${r}`).toBeLessThan(1e-3);
          else {
            // A near-tie flipped one decision: the row may move a little, never its answer.
            expect(argmax(a.logits.data, r), `${name}/${schedule} row ${r} answer`).toBe(
              argmax(b.logits.data, r),
            );
            expect(d, `${name}/${schedule} row ${r}`).toBeLessThan(0.25);
          }
        });
      }
    }
  }, 120_000);

  it('the exported .onnx of the reduced model runs in a fresh onnxruntime session', async () => {
    const m = checkpoint('tiny-vilt-shapes-pumer');
    const inputs = batch(m, 8);
    const ours = await backend.runVilt(m.model, inputs, m.reduction);
    const dir = mkdtempSync(join(tmpdir(), 'pumer-onnx-'));
    try {
      const path = join(dir, 'vilt-pumer.onnx');
      const graph = buildViltGraph(m.model, { textLen: 16, gridH: 8, gridW: 8 }, m.reduction).graph;
      expect(await writeOnnx(graph, path)).toBeGreaterThan(100_000);
      const session = await ort.InferenceSession.create(path);
      expect(session.inputNames).toEqual(['input_ids', 'attention_mask', 'pixel_values']);
      const out = await session.run({
        input_ids: new ort.Tensor('int32', inputs.inputIds.data, [8, 16]),
        attention_mask: new ort.Tensor('float32', Float32Array.from(inputs.attentionMask.data), [8, 16]),
        pixel_values: new ort.Tensor('float32', inputs.pixelValues.data, [...inputs.pixelValues.shape]),
      });
      const logits = out['logits'];
      expect(logits.dims).toEqual([8, m.model.labels.length]);
      expect(
        maxAbsDiff(
          { dtype: 'float32', shape: [8, m.model.labels.length], data: logits.data as Float32Array },
          ours.logits,
        ),
      ).toBeLessThan(1e-5);
      expect(session.outputNames).toContain('layer1_keep_idx');
      await session.release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
