import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeModel } from '@pumer/onnx';
import { defaultModelDir } from '@pumer/vilt/node';
import { describe, expect, it } from 'vitest';
import { runCli } from '../testing.js';

type Dim = { dimValue?: number; dimParam?: string };
type Graph = { input: { name: string; type: { tensorType: { shape: { dim: Dim[] } } } }[] };

function inputDims(file: string): Record<string, (number | string)[]> {
  const model = decodeModel(new Uint8Array(readFileSync(file))) as { graph: Graph };
  return Object.fromEntries(
    model.graph.input.map((v) => [v.name, v.type.tensorType.shape.dim.map((d) => d.dimValue ?? d.dimParam!)]),
  );
}

describe('pumer export', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'pumer-export-'));

  it('writes the reduced model as one ONNX file with a fixed batch', async () => {
    const out = path.join(tmp, 'fixed.onnx');
    const r = await runCli(['export', '--model', defaultModelDir(), '--out', out, '--batch', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.file).toBe(out);
    expect(statSync(out).size).toBe(json.bytes);
    expect(json.schedule.config.reduceLayers).toEqual([1, 3]);
    const dims = inputDims(out);
    expect(dims['input_ids']).toEqual([2, 16]);
    expect(dims['pixel_values']).toEqual([2, 3, 64, 64]);
    // The report names every graph input and output with its dtype and shape, as the file has them.
    expect(json.inputs).toContainEqual({ name: 'input_ids', dtype: 'int32', shape: [2, 16] });
    expect(json.inputs).toContainEqual({ name: 'pixel_values', dtype: 'float32', shape: [2, 3, 64, 64] });
    expect(json.inputs.map((v: { name: string }) => v.name)).toEqual(Object.keys(dims));
    expect(json.outputs.length).toBeGreaterThan(0);
    for (const v of [...json.inputs, ...json.outputs])
      expect(v.dtype).toMatch(/^(float32|int32|int64|bool)$/);
  });

  it('--batch-dynamic leaves the batch symbolic', async () => {
    const out = path.join(tmp, 'dynamic.onnx');
    const r = await runCli([
      'export',
      '--model',
      defaultModelDir(),
      '--out',
      out,
      '--schedule',
      'aggressive',
      '--batch-dynamic',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('batch    dynamic');
    expect(inputDims(out)['input_ids']).toEqual(['batch', 16]);
    // Text output: one row per graph input and output, with dtype and shape.
    expect(r.stdout).toMatch(/^input\s+input_ids\s+int32\s+\[batch, 16\]$/m);
    expect(r.stdout).toMatch(/^input\s+pixel_values\s+float32\s+\[batch, 3, 64, 64\]$/m);
    expect(r.stdout).toMatch(/^output\s+logits\s+float32\s+\[batch, \d+\]$/m);
  });

  it('an unreadable model is one line, exit 2', async () => {
    const r = await runCli(['export', '--model', tmp, '--out', path.join(tmp, 'x.onnx')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^pumer: error: cannot read model .*\n$/);
  });
});
