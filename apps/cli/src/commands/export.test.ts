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
  });

  it('an unreadable model is one line, exit 2', async () => {
    const r = await runCli(['export', '--model', tmp, '--out', path.join(tmp, 'x.onnx')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^pumer: error: cannot read model .*\n$/);
  });
});
