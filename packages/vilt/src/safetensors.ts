import { PumerError, sizeOf } from '@pumer/core';

/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header mapping each
 * tensor name to {dtype, shape, data_offsets: [begin, end]} (offsets into the data section that follows),
 * optional "__metadata__" of string pairs, then the raw little-endian data. Every read is bounds-checked:
 * a damaged or hostile file gives a PumerError naming the problem, never a silent misread.
 */

export interface SafetensorsTensor {
  /** The dtype stored in the file; `data` is always float32. */
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export type SafetensorsDType = 'F32' | 'F16' | 'BF16';

export interface SafetensorsFile {
  readonly tensors: ReadonlyMap<string, SafetensorsTensor>;
  readonly metadata: Readonly<Record<string, string>>;
}

const BYTES_PER_ELEMENT: Record<SafetensorsDType, number> = { F32: 4, F16: 2, BF16: 2 };

function fail(source: string, message: string): never {
  throw new PumerError('CHECKPOINT', `${source}: ${message}`);
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function decodeF32(bytes: Uint8Array): Float32Array {
  const n = bytes.length / 4;
  // Copy into a fresh, aligned buffer (new Uint8Array copies even when given a Node Buffer, whose slice() does not).
  if (LITTLE_ENDIAN_HOST) return new Float32Array(new Uint8Array(bytes).buffer, 0, n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** IEEE half precision to float32, subnormals and non-finite values included. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function decodeF16(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
  return out;
}

/** bfloat16 is the top half of a float32: shift its bits up. */
function decodeBF16(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bits = new Uint32Array(bytes.length / 2);
  for (let i = 0; i < bits.length; i++) bits[i] = view.getUint16(i * 2, true) << 16;
  return new Float32Array(bits.buffer);
}

const DECODERS: Record<SafetensorsDType, (bytes: Uint8Array) => Float32Array> = {
  F32: decodeF32,
  F16: decodeF16,
  BF16: decodeBF16,
};

function isNonNegativeInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Parses a whole safetensors file. `source` names the file in error messages. */
export function readSafetensors(bytes: Uint8Array, source = 'model.safetensors'): SafetensorsFile {
  if (!(bytes instanceof Uint8Array)) fail(source, 'expected the file contents as a Uint8Array');
  if (bytes.length < 8) fail(source, `file is ${bytes.length} bytes, too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen64 = view.getBigUint64(0, true);
  if (headerLen64 > BigInt(bytes.length - 8)) {
    fail(
      source,
      `header length ${headerLen64} runs past the end of the file (${bytes.length - 8} bytes after the length)`,
    );
  }
  const headerLen = Number(headerLen64);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (err) {
    fail(source, `header is not valid UTF-8 JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    fail(source, 'header must be a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, SafetensorsTensor>();
  const spans: { name: string; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
        fail(source, '__metadata__ must be an object');
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(source, `__metadata__.${k} must be a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (entry === null || typeof entry !== 'object')
      fail(source, `tensor "${name}": header entry must be an object`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (typeof dtype !== 'string') fail(source, `tensor "${name}": missing dtype`);
    if (!(dtype in BYTES_PER_ELEMENT)) {
      fail(
        source,
        `tensor "${name}" has unsupported dtype ${dtype} (supported: ${Object.keys(BYTES_PER_ELEMENT).join(', ')})`,
      );
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) {
      fail(
        source,
        `tensor "${name}": shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`,
      );
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger)) {
      fail(
        source,
        `tensor "${name}": data_offsets must be [begin, end] integers, got ${JSON.stringify(offsets)}`,
      );
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) fail(source, `tensor "${name}": data_offsets [${begin}, ${end}] are out of order`);
    if (end > dataLen) {
      fail(
        source,
        `tensor "${name}": data_offsets [${begin}, ${end}] run past the data section (${dataLen} bytes)`,
      );
    }
    const type = dtype as SafetensorsDType;
    const expectedBytes = sizeOf(shape) * BYTES_PER_ELEMENT[type];
    if (end - begin !== expectedBytes) {
      fail(
        source,
        `tensor "${name}" spans ${end - begin} bytes but shape [${shape.join(', ')}] of ${type} needs ${expectedBytes}`,
      );
    }
    spans.push({ name, begin, end });
    const raw = bytes.subarray(dataStart + begin, dataStart + end);
    tensors.set(name, { dtype: type, shape: [...shape], data: DECODERS[type](raw) });
  }
  // Overlapping tensors would alias each other's bytes: the writer never produces them, so refuse them.
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < spans.length; i++) {
    const prev = spans[i - 1];
    const cur = spans[i];
    if (cur.begin < prev.end)
      fail(source, `tensors "${prev.name}" and "${cur.name}" overlap in the data section`);
  }
  return { tensors, metadata };
}

export interface TensorToWrite {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/**
 * Serialises float32 tensors to safetensors bytes (tensors in the given order, header padded with spaces
 * to 8 bytes so every tensor starts aligned).
 */
export function writeSafetensors(
  tensors: Readonly<Record<string, TensorToWrite>> | ReadonlyMap<string, TensorToWrite>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header['__metadata__'] = { ...metadata };
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === '__metadata__')
      throw new PumerError('CHECKPOINT', 'writeSafetensors: "__metadata__" is not a valid tensor name');
    if (!(t.data instanceof Float32Array))
      throw new PumerError('CHECKPOINT', `writeSafetensors: tensor "${name}" must hold a Float32Array`);
    const n = sizeOf(t.shape);
    if (n !== t.data.length) {
      throw new PumerError(
        'CHECKPOINT',
        `writeSafetensors: tensor "${name}" has ${t.data.length} values but shape [${t.shape.join(', ')}] holds ${n}`,
      );
    }
    header[name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + n * 4] };
    offset += n * 4;
  }
  let json = JSON.stringify(header);
  const encoder = new TextEncoder();
  let headerBytes = encoder.encode(json);
  const pad = (8 - (headerBytes.length % 8)) % 8;
  if (pad > 0) {
    json += ' '.repeat(pad);
    headerBytes = encoder.encode(json);
  }
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const [, t] of entries) {
    if (LITTLE_ENDIAN_HOST) out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    else for (let i = 0; i < t.data.length; i++) view.setFloat32(pos + i * 4, t.data[i], true);
    pos += t.data.length * 4;
  }
  return out;
}
