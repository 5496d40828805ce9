import { PumerError } from '@pumer/core';
import { describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from './safetensors.js';

function fileWithHeader(header: unknown, dataBytes: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

function expectCheckpointError(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PumerError);
    expect((err as PumerError).code).toBe('CHECKPOINT');
    expect((err as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected a PumerError');
}

describe('safetensors', () => {
  it('round-trips float32 tensors and metadata through the writer and reader', () => {
    const a = Float32Array.from([1.5, -2, 3.25, 0, 1e-8, -7]);
    const b = Float32Array.from([42]);
    const bytes = writeSafetensors(
      { a: { shape: [2, 3], data: a }, 'x.y': { shape: [1], data: b } },
      { format: 'pt' },
    );
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLen % 8).toBe(0);
    const file = readSafetensors(bytes);
    expect(file.metadata).toEqual({ format: 'pt' });
    expect(file.tensors.get('a')?.shape).toEqual([2, 3]);
    expect(Array.from(file.tensors.get('a')?.data ?? [])).toEqual(Array.from(a));
    expect(Array.from(file.tensors.get('x.y')?.data ?? [])).toEqual([42]);
  });

  it('reads from a Node Buffer that is a slice of a larger pool', () => {
    const bytes = writeSafetensors({ t: { shape: [3], data: Float32Array.from([1, 2, 3]) } });
    const pool = Buffer.alloc(bytes.length + 13, 0x7f);
    pool.set(bytes, 5);
    const file = readSafetensors(pool.subarray(5, 5 + bytes.length));
    expect(Array.from(file.tensors.get('t')?.data ?? [])).toEqual([1, 2, 3]);
  });

  it('decodes F16 and BF16 to float32', () => {
    const file = fileWithHeader(
      {
        h: { dtype: 'F16', shape: [4], data_offsets: [0, 8] },
        bf: { dtype: 'BF16', shape: [2], data_offsets: [8, 12] },
      },
      12,
    );
    const data = new DataView(file.buffer, file.length - 12);
    // F16: 1.0 = 0x3c00, -2.0 = 0xc000, 0.5 = 0x3800, smallest subnormal = 0x0001
    for (const [i, v] of [0x3c00, 0xc000, 0x3800, 0x0001].entries()) data.setUint16(i * 2, v, true);
    // BF16: 1.0 = 0x3f80, -3.0 = 0xc040
    data.setUint16(8, 0x3f80, true);
    data.setUint16(10, 0xc040, true);
    const out = readSafetensors(file);
    expect(Array.from(out.tensors.get('h')?.data ?? [])).toEqual([1, -2, 0.5, Math.fround(2 ** -24)]);
    expect(Array.from(out.tensors.get('bf')?.data ?? [])).toEqual([1, -3]);
    expect(out.tensors.get('h')?.dtype).toBe('F16');
  });

  it('rejects a file shorter than the 8-byte header length', () => {
    expectCheckpointError(() => readSafetensors(new Uint8Array(5)), /too short/);
  });

  it('rejects a truncated file (data cut off) naming the tensor', () => {
    const bytes = writeSafetensors({ w: { shape: [4, 4], data: new Float32Array(16) } });
    expectCheckpointError(
      () => readSafetensors(bytes.subarray(0, bytes.length - 10)),
      /"w".*run past the data section/,
    );
  });

  it('rejects a header length beyond the end of the file', () => {
    const bytes = new Uint8Array(16);
    new DataView(bytes.buffer).setBigUint64(0, 1000n, true);
    expectCheckpointError(() => readSafetensors(bytes), /header length 1000 runs past the end/);
    new DataView(bytes.buffer).setBigUint64(0, 2n ** 63n, true);
    expectCheckpointError(() => readSafetensors(bytes), /runs past the end/);
  });

  it('rejects a header that is not JSON, or not an object', () => {
    const bytes = new Uint8Array(8 + 4);
    new DataView(bytes.buffer).setBigUint64(0, 4n, true);
    bytes.set(new TextEncoder().encode('{"a"'), 8);
    expectCheckpointError(() => readSafetensors(bytes), /not valid UTF-8 JSON/);
    expectCheckpointError(() => readSafetensors(fileWithHeader([1, 2], 0)), /must be a JSON object/);
  });

  it('rejects offsets out of range, out of order or overlapping', () => {
    expectCheckpointError(
      () => readSafetensors(fileWithHeader({ t: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, 8)),
      /"t": data_offsets \[8, 16\] run past/,
    );
    expectCheckpointError(
      () => readSafetensors(fileWithHeader({ t: { dtype: 'F32', shape: [0], data_offsets: [8, 4] } }, 8)),
      /out of order/,
    );
    expectCheckpointError(
      () => readSafetensors(fileWithHeader({ t: { dtype: 'F32', shape: [2], data_offsets: [-8, 0] } }, 8)),
      /data_offsets must be/,
    );
    expectCheckpointError(
      () =>
        readSafetensors(
          fileWithHeader(
            {
              a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
              b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
            },
            12,
          ),
        ),
      /overlap/,
    );
  });

  it('rejects a byte span that disagrees with shape x dtype size', () => {
    expectCheckpointError(
      () => readSafetensors(fileWithHeader({ t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8)),
      /"t" spans 8 bytes but shape \[3\] of F32 needs 12/,
    );
  });

  it('rejects an unsupported dtype, naming the tensor and the dtype', () => {
    expectCheckpointError(
      () =>
        readSafetensors(
          fileWithHeader({ 'vilt.ids': { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, 8),
        ),
      /tensor "vilt.ids" has unsupported dtype I64/,
    );
  });

  it('refuses to write mismatched data', () => {
    expect(() => writeSafetensors({ t: { shape: [3], data: new Float32Array(2) } })).toThrow(PumerError);
  });
});
