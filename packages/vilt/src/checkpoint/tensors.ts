import { PumerError } from '@pumer/core';

/**
 * The tensors a checkpoint file holds, whatever its format (safetensors, torch.save zip, shards of either).
 * Floating-point tensors are always returned as float32 (F16/BF16/F64 converted on read) because that is what
 * the model computes in; integer and boolean tensors (buffers such as an int64 `position_ids`) keep their own
 * typed array so a caller can read them or, as the ViLT weight mapping does, skip them.
 */

export type FloatDType = 'F64' | 'F32' | 'F16' | 'BF16';
export type IntDType = 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';
export type TensorDType = FloatDType | IntDType;

interface TensorOf<D extends TensorDType, A> {
  /** The dtype stored in the file. */
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: A;
}

/** A floating-point tensor: `data` is float32 whatever the stored precision. */
export type FloatCheckpointTensor = TensorOf<FloatDType, Float32Array>;

/** An integer or boolean tensor (BOOL: one byte per value, 0 or 1). */
export type IntCheckpointTensor =
  | TensorOf<'I64', BigInt64Array>
  | TensorOf<'I32', Int32Array>
  | TensorOf<'I16', Int16Array>
  | TensorOf<'I8', Int8Array>
  | TensorOf<'U8' | 'BOOL', Uint8Array>;

export type CheckpointTensor = FloatCheckpointTensor | IntCheckpointTensor;

/** One checkpoint's tensors by name, and its string metadata (safetensors `__metadata__`; empty for torch). */
export interface CheckpointFile {
  readonly tensors: ReadonlyMap<string, CheckpointTensor>;
  readonly metadata: Readonly<Record<string, string>>;
}

export const BYTES_PER_ELEMENT: Readonly<Record<TensorDType, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export const TENSOR_DTYPES = Object.keys(BYTES_PER_ELEMENT) as TensorDType[];

export function isTensorDType(v: unknown): v is TensorDType {
  return typeof v === 'string' && Object.hasOwn(BYTES_PER_ELEMENT, v);
}

export function isFloatTensor(t: CheckpointTensor): t is FloatCheckpointTensor {
  return t.data instanceof Float32Array;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A fresh, aligned copy of `bytes` (a Node Buffer may be an unaligned slice of a shared pool). */
function alignedCopy(bytes: Uint8Array): ArrayBuffer {
  return new Uint8Array(bytes).buffer;
}

/** IEEE half precision to float32, subnormals and non-finite values included. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 to IEEE half, rounding to nearest even (overflow to infinity, NaN kept NaN). */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): shift the full significand down, rounding to nearest even.
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && half & 1) ? 1 : 0));
  }
  const half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0));
}

/** float32 to bfloat16 (its top 16 bits), rounding to nearest even; NaN kept NaN. */
export function floatToBF16(v: number): number {
  f32[0] = v;
  const x = u32[0];
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

function decodeFloats(dtype: FloatDType, bytes: Uint8Array): Float32Array {
  const size = BYTES_PER_ELEMENT[dtype];
  const n = bytes.length / size;
  if (dtype === 'F32' && LITTLE_ENDIAN_HOST) {
    // Aligned (safetensors pads its header so every tensor is): a view of the file's bytes, not a second copy
    // of the weights. The file's buffer then lives as long as the weights do, and nothing else holds it.
    if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, n);
    return new Float32Array(alignedCopy(bytes), 0, n);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  if (dtype === 'F32') for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  else if (dtype === 'F64') for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
  else if (dtype === 'F16') for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
  else {
    // bfloat16 is the top half of a float32: shift its bits up.
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) bits[i] = view.getUint16(i * 2, true) << 16;
  }
  return out;
}

/** Decodes little-endian element bytes (length a multiple of the element size) into the tensor's data. */
export function decodeTensor(
  dtype: TensorDType,
  shape: readonly number[],
  bytes: Uint8Array,
): CheckpointTensor {
  const s = [...shape];
  if (dtype === 'F64' || dtype === 'F32' || dtype === 'F16' || dtype === 'BF16')
    return { dtype, shape: s, data: decodeFloats(dtype, bytes) };
  if (dtype === 'U8' || dtype === 'BOOL') return { dtype, shape: s, data: new Uint8Array(bytes) };
  if (dtype === 'I8') return { dtype, shape: s, data: new Int8Array(alignedCopy(bytes)) };
  const n = bytes.length / BYTES_PER_ELEMENT[dtype];
  const fast = LITTLE_ENDIAN_HOST;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === 'I64') {
    if (fast) return { dtype, shape: s, data: new BigInt64Array(alignedCopy(bytes), 0, n) };
    const data = new BigInt64Array(n);
    for (let i = 0; i < n; i++) data[i] = view.getBigInt64(i * 8, true);
    return { dtype, shape: s, data };
  }
  if (dtype === 'I32') {
    if (fast) return { dtype, shape: s, data: new Int32Array(alignedCopy(bytes), 0, n) };
    const data = new Int32Array(n);
    for (let i = 0; i < n; i++) data[i] = view.getInt32(i * 4, true);
    return { dtype, shape: s, data };
  }
  if (fast) return { dtype, shape: s, data: new Int16Array(alignedCopy(bytes), 0, n) };
  const data = new Int16Array(n);
  for (let i = 0; i < n; i++) data[i] = view.getInt16(i * 2, true);
  return { dtype, shape: s, data };
}

/** Little-endian bytes of a tensor's data in `dtype` (float32 data may be written as F32, F16 or BF16). */
export function encodeTensor(dtype: TensorDType, data: CheckpointTensor['data'], name: string): Uint8Array {
  const out = new Uint8Array(data.length * BYTES_PER_ELEMENT[dtype]);
  const view = new DataView(out.buffer);
  const wrong = (): never => {
    throw new PumerError(
      'CHECKPOINT',
      `tensor "${name}": ${data.constructor.name} data cannot be written as ${dtype}`,
    );
  };
  if (data instanceof Float32Array) {
    if (dtype === 'F32') for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
    else if (dtype === 'F64') for (let i = 0; i < data.length; i++) view.setFloat64(i * 8, data[i], true);
    else if (dtype === 'F16')
      for (let i = 0; i < data.length; i++) view.setUint16(i * 2, floatToHalf(data[i]), true);
    else if (dtype === 'BF16')
      for (let i = 0; i < data.length; i++) view.setUint16(i * 2, floatToBF16(data[i]), true);
    else wrong();
  } else if (data instanceof BigInt64Array) {
    if (dtype !== 'I64') wrong();
    for (let i = 0; i < data.length; i++) view.setBigInt64(i * 8, data[i], true);
  } else if (data instanceof Int32Array) {
    if (dtype !== 'I32') wrong();
    for (let i = 0; i < data.length; i++) view.setInt32(i * 4, data[i], true);
  } else if (data instanceof Int16Array) {
    if (dtype !== 'I16') wrong();
    for (let i = 0; i < data.length; i++) view.setInt16(i * 2, data[i], true);
  } else if (data instanceof Int8Array) {
    if (dtype !== 'I8') wrong();
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  } else {
    if (dtype !== 'U8' && dtype !== 'BOOL') wrong();
    out.set(data);
  }
  return out;
}

/**
 * Refuses a checkpoint whose floating-point tensors hold NaN or ±Infinity, naming the first such tensor: a
 * non-finite weight turns every logit into NaN (or ranks garbage), on every backend, so it is caught at load.
 */
export function checkFiniteTensors(tensors: ReadonlyMap<string, CheckpointTensor>, source: string): void {
  for (const [name, t] of tensors) {
    if (!isFloatTensor(t)) continue;
    const data = t.data;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      // v - v is 0 for finite v, NaN for NaN and ±Infinity: one comparison per value.
      if (v - v !== 0) {
        let count = 0;
        for (let j = i; j < data.length; j++) if (data[j] - data[j] !== 0) count++;
        throw new PumerError(
          'CHECKPOINT',
          `${source}: tensor "${name}" holds ${count} non-finite value${count === 1 ? '' : 's'} (the first, ${v}, at flat index ${i}): the checkpoint is damaged`,
        );
      }
    }
  }
}
