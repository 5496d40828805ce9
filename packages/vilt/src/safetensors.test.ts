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
    expect(Array.from(file.tensors.get('a')?.data as Float32Array)).toEqual(Array.from(a));
    expect(Array.from(file.tensors.get('x.y')?.data as Float32Array)).toEqual([42]);
  });

  it('reads from a Node Buffer that is a slice of a larger pool', () => {
    const bytes = writeSafetensors({ t: { shape: [3], data: Float32Array.from([1, 2, 3]) } });
    const pool = Buffer.alloc(bytes.length + 13, 0x7f);
    pool.set(bytes, 5);
    const file = readSafetensors(pool.subarray(5, 5 + bytes.length));
    expect(Array.from(file.tensors.get('t')?.data as Float32Array)).toEqual([1, 2, 3]);
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
    expect(Array.from(out.tensors.get('h')?.data as Float32Array)).toEqual([
      1,
      -2,
      0.5,
      Math.fround(2 ** -24),
    ]);
    expect(Array.from(out.tensors.get('bf')?.data as Float32Array)).toEqual([1, -3]);
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
    expectCheckpointError(() => readSafetensors(fileWithHeader([1, 2], 0)), /header must start with "\{"/);
    expectCheckpointError(() => readSafetensors(fileWithHeader('x', 0)), /header must start with "\{"/);
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
          fileWithHeader({ 'vilt.q': { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, 1),
        ),
      /tensor "vilt.q" has unsupported dtype F8_E4M3 \(supported: F64, F32, F16, BF16, I64/,
    );
  });

  it('returns integer and boolean tensors typed (an int64 position_ids buffer is not fatal)', () => {
    const ids = BigInt64Array.from({ length: 40 }, (_, i) => BigInt(i));
    const bytes = writeSafetensors({
      'vilt.embeddings.text_embeddings.position_ids': { shape: [1, 40], data: ids },
      i32: { shape: [2], data: Int32Array.from([-1, 2 ** 31 - 1]) },
      i8: { shape: [1], data: Int8Array.from([-7]) },
      u8: { shape: [2], data: Uint8Array.from([0, 255]) },
      mask: { shape: [2], data: Uint8Array.from([1, 0]), dtype: 'BOOL' },
      w: { shape: [1], data: Float32Array.from([0.5]) },
    });
    const file = readSafetensors(bytes);
    const t = file.tensors.get('vilt.embeddings.text_embeddings.position_ids');
    expect(t).toEqual({ dtype: 'I64', shape: [1, 40], data: ids });
    expect(file.tensors.get('i32')).toEqual({
      dtype: 'I32',
      shape: [2],
      data: Int32Array.from([-1, 2 ** 31 - 1]),
    });
    expect(file.tensors.get('i8')?.data).toEqual(Int8Array.from([-7]));
    expect(file.tensors.get('u8')).toEqual({ dtype: 'U8', shape: [2], data: Uint8Array.from([0, 255]) });
    expect(file.tensors.get('mask')?.dtype).toBe('BOOL');
    expect(file.tensors.get('w')?.data).toEqual(Float32Array.from([0.5]));
  });

  it('round-trips F16 and BF16 tensors through the writer and reader (as float32)', () => {
    // Exactly representable in both: they come back unchanged.
    const exact = Float32Array.from([1, -2, 0.5, 0.15625, -96, 0]);
    const bytes = writeSafetensors({
      h: { shape: [2, 3], data: exact, dtype: 'F16' },
      bf: { shape: [6], data: exact, dtype: 'BF16' },
      hr: { shape: [2], data: Float32Array.from([0.1, 70000]), dtype: 'F16' },
      bfr: { shape: [1], data: Float32Array.from([0.1]), dtype: 'BF16' },
    });
    const header = JSON.parse(
      new TextDecoder().decode(
        bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))),
      ),
    );
    expect(header.h).toEqual({ dtype: 'F16', shape: [2, 3], data_offsets: [0, 12] });
    expect(header.bf.data_offsets).toEqual([12, 24]);
    const file = readSafetensors(bytes);
    expect(file.tensors.get('h')).toEqual({ dtype: 'F16', shape: [2, 3], data: exact });
    expect(file.tensors.get('bf')).toEqual({ dtype: 'BF16', shape: [6], data: exact });
    // Rounded to the nearest representable value: 0.1 → 0x2e66 in half, 0x3dcd in bfloat16; 70000 overflows.
    expect(Array.from(file.tensors.get('hr')?.data as Float32Array)).toEqual([
      Math.fround(0.0999755859375),
      Number.POSITIVE_INFINITY,
    ]);
    expect(file.tensors.get('bfr')?.data).toEqual(Float32Array.from([0.10009765625]));
  });

  it('requires the tensors to cover the data section exactly, as the reference parser does', () => {
    // A gap before a tensor, and bytes after the last one.
    expectCheckpointError(
      () => readSafetensors(fileWithHeader({ t: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8)),
      /4 bytes of the data section before tensor "t" belong to no tensor/,
    );
    expectCheckpointError(
      () => readSafetensors(fileWithHeader({ t: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 8)),
      /the tensors cover 4 bytes but the data section holds 8/,
    );
    expectCheckpointError(
      () =>
        readSafetensors(
          fileWithHeader(
            {
              a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
              z: { dtype: 'F32', shape: [0], data_offsets: [4, 4] },
              b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
            },
            12,
          ),
        ),
      /before tensor "b"/,
    );
    expectCheckpointError(
      () => readSafetensors(fileWithHeader({}, 4)),
      /cover 0 bytes but the data section holds 4/,
    );
    expect(readSafetensors(fileWithHeader({}, 0)).tensors.size).toBe(0);
  });

  it('refuses a header length 1 to 4 bytes short (which would shift every offset)', () => {
    const w = Float32Array.from([1, 2, 3, 4]);
    // Pad the header with spaces so a shorter length still leaves valid JSON.
    const json = new TextEncoder().encode(
      `${JSON.stringify({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } })}        `,
    );
    const good = new Uint8Array(8 + json.length + 16);
    good.set(json, 8);
    new Uint8Array(good.buffer, 8 + json.length).set(new Uint8Array(w.buffer));
    new DataView(good.buffer).setBigUint64(0, BigInt(json.length), true);
    expect(readSafetensors(good).tensors.get('w')?.data).toEqual(w);
    for (let short = 1; short <= 4; short++) {
      const bad = good.slice();
      new DataView(bad.buffer).setBigUint64(0, BigInt(json.length - short), true);
      expectCheckpointError(
        () => readSafetensors(bad),
        new RegExp(`the tensors cover 16 bytes but the data section holds ${16 + short}`),
      );
    }
  });

  it('refuses to write mismatched data', () => {
    expect(() => writeSafetensors({ t: { shape: [3], data: new Float32Array(2) } })).toThrow(PumerError);
  });
});
