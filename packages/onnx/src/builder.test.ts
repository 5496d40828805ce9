import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { attr, GraphBuilder, IR_VERSION, OPSET } from './builder.js';
import { writeOnnxWithExternalData } from './node.js';
import { decodeModel } from './proto.js';

async function run(g: GraphBuilder, feeds: Record<string, ort.Tensor>) {
  const session = await ort.InferenceSession.create(g.toOnnxBytes());
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

describe('GraphBuilder', () => {
  it('writes ONNX that decodes back to what was built (opset, IR, raw_data, typed attributes)', () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float32', ['batch', 3]);
    const w = g.initializer('w', 'float32', [3, 2], Float32Array.from([1, 2, 3, 4, 5, 6]));
    const y = g.op('Gemm', [x, w], { alpha: attr.float(0.5), transB: attr.int(0) });
    g.output(y, 'y', 'float32', ['batch', 2]);
    const m = decodeModel(g.toOnnxBytes()) as {
      irVersion: number;
      opsetImport: { version: number }[];
      graph: {
        node: { opType: string; attribute: { name: string; type: number; f?: number; i?: number }[] }[];
        initializer: { name: string; dims: number[]; dataType: number; rawData: number[] }[];
        input: { name: string; type: { tensorType: { shape: { dim: Record<string, unknown>[] } } } }[];
      };
    };
    expect(m.irVersion).toBe(IR_VERSION);
    expect(m.opsetImport[0].version).toBe(OPSET);
    expect(m.graph.node.map((n) => n.opType)).toEqual(['Gemm', 'Identity']);
    expect(m.graph.node[0].attribute).toEqual([
      { name: 'alpha', type: 1, f: 0.5 },
      { name: 'transB', type: 2, i: 0 },
    ]);
    expect(m.graph.initializer[0]).toMatchObject({ name: 'w', dims: [3, 2], dataType: 1 });
    expect(new Float32Array(Uint8Array.from(m.graph.initializer[0].rawData).buffer)).toEqual(
      Float32Array.from([1, 2, 3, 4, 5, 6]),
    );
    expect(m.graph.input[0].type.tensorType.shape.dim).toEqual([{ dimParam: 'batch' }, { dimValue: 3 }]);
  });

  it('runs in onnxruntime-node with a dynamic batch and computes the math it reads as', async () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float32', ['batch', 2]);
    const ids = g.input('ids', 'int32', ['batch']);
    // y = (x + 1) * 2, z = x[:, ::-1] via Slice with a negative step, padded with 7 at the end
    const y = g.mul(g.add(x, g.float(1)), g.float(2));
    const z = g.pad(g.slice(x, 1, -1, -3, -1), 2, 1, 0, 1, 7);
    g.output(y, 'y', 'float32', ['batch', 2]);
    g.output(z, 'z', 'float32', ['batch', 3]);
    g.output(g.cast(g.add(ids, g.ints32([1], [])), 'float32'), 'w', 'float32', ['batch']);
    const out = await run(g, {
      x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6]), [3, 2]),
      ids: new ort.Tensor('int32', Int32Array.from([4, 5, 6]), [3]),
    });
    expect(Array.from(out['y'].data as Float32Array)).toEqual([4, 6, 8, 10, 12, 14]);
    expect(Array.from(out['z'].data as Float32Array)).toEqual([2, 1, 7, 4, 3, 7, 6, 5, 7]);
    expect(Array.from(out['w'].data as Float32Array)).toEqual([5, 6, 7]);
  });

  it('deduplicates small constants and keeps names unique', () => {
    const g = new GraphBuilder('t');
    expect(g.floats([1, 2])).toBe(g.floats([1, 2]));
    expect(g.floats([1, 2])).not.toBe(g.ints32([1, 2]));
    const a = g.within('layer0', () => g.op('Relu', [g.input('x', 'float32', [1])]));
    const b = g.within('layer0', () => g.op('Relu', [a]));
    expect(a).toMatch(/^layer0\/Relu/);
    expect(b).not.toBe(a);
    expect(() => g.input('x', 'float32', [1])).toThrow(/already exists/);
    expect(() => g.initializer('w', 'float32', [2, 2], new Float32Array(3))).toThrow(
      /3 values do not fit \[2, 2\]/,
    );
  });

  it('writes large initializers as external data (aligned, derived ones made only when written) that onnxruntime loads', async () => {
    const big = Float32Array.from({ length: 600 }, (_, i) => i / 100); // 2400 bytes: external
    let derivations = 0;
    const build = () => {
      const g = new GraphBuilder('t');
      const x = g.input('x', 'float32', ['batch', 600]);
      const w = g.initializer('w', 'float32', [600], big);
      const v = g.initializer('v', 'float32', [600], () => {
        derivations++;
        return big.map((a) => -2 * a);
      });
      const small = g.floats([1, 2, 3]); // 12 bytes: stays in the .onnx
      g.output(g.mul(g.add(x, w), v), 'y', 'float32', ['batch', 600]);
      g.output(g.mul(small, g.float(2)), 's', 'float32', [3]);
      return g;
    };
    const g = build();
    const laid = g.toExternalData({ location: 'm.onnx.data' });
    expect(derivations).toBe(0);
    expect(laid.tensors.map((t) => [t.name, t.offset % 4096, t.byteLength])).toEqual([
      ['w', 0, 2400],
      ['v', 0, 2400],
    ]);
    expect(laid.dataBytes).toBe(4096 + 2400);
    const m = decodeModel(laid.model) as {
      graph: { initializer: { name: string; dataLocation?: number; rawData?: number[] }[] };
    };
    expect(m.graph.initializer.filter((i) => i.dataLocation === 1).map((i) => i.name)).toEqual(['w', 'v']);

    const dir = mkdtempSync(join(tmpdir(), 'pumer-external-'));
    try {
      const files = writeOnnxWithExternalData(build(), join(dir, 'm.onnx'));
      expect(derivations).toBe(1);
      expect(statSync(files.dataPath).size).toBe(files.dataBytes);
      const x = new ort.Tensor(
        'float32',
        Float32Array.from({ length: 1200 }, (_, i) => i % 7),
        [2, 600],
      );
      const fromDisk = await ort.InferenceSession.create(files.onnxPath);
      const fromBytes = await ort.InferenceSession.create(build().toOnnxBytes());
      try {
        const a = await fromDisk.run({ x });
        const b = await fromBytes.run({ x });
        expect(a['y'].data).toEqual(b['y'].data);
        expect(Array.from(a['s'].data as Float32Array)).toEqual([2, 4, 6]);
        expect((a['y'].data as Float32Array)[601]).toBeCloseTo(((601 % 7) + 0.01) * -0.02, 5);
      } finally {
        await fromDisk.release();
        await fromBytes.release();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a derived initializer whose data does not fit its dims, when it is made', () => {
    const g = new GraphBuilder('t');
    g.initializer('w', 'float32', [2, 2], () => new Float32Array(3));
    expect(() => g.toOnnxBytes()).toThrow(/3 values do not fit \[2, 2\]/);
  });
});
