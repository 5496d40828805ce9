import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { attr, GraphBuilder, IR_VERSION, OPSET } from './builder.js';
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
});
