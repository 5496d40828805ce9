import { PumerError, sizeOf } from '@pumer/core';
import {
  BYTES_PER_ELEMENT,
  type CheckpointFile,
  type CheckpointTensor,
  decodeTensor,
  encodeTensor,
  isTensorDType,
  TENSOR_DTYPES,
  type TensorDType,
} from './checkpoint/tensors.js';
import { describeValue } from './json-value.js';

/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header mapping each
 * tensor name to {dtype, shape, data_offsets: [begin, end]} (offsets into the data section that follows),
 * optional "__metadata__" of string pairs, then the raw little-endian data. As the format's reference parser
 * requires, the tensors cover the data section exactly: no gap, no overlap, the last one ending at the end of
 * the file (so a header length a few bytes off, which would shift every offset, is refused). Every read is
 * bounds-checked: a damaged or hostile file gives a PumerError naming the problem, never a silent misread.
 */

/** A tensor as read: float dtypes as float32 data, integer and boolean dtypes as their own typed array. */
export type SafetensorsTensor = CheckpointTensor;

export type SafetensorsDType = TensorDType;

export type SafetensorsFile = CheckpointFile;

/** The format's reference parser refuses larger headers (a guard against absurd allocations). */
const MAX_HEADER_BYTES = 100_000_000;

function fail(source: string, message: string): never {
  throw new PumerError('CHECKPOINT', `${source}: ${message}`);
}

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
  if (headerLen > MAX_HEADER_BYTES)
    fail(source, `header length ${headerLen} exceeds ${MAX_HEADER_BYTES} bytes`);
  // The reference parser insists the header is a JSON object from its first byte.
  if (headerLen === 0 || bytes[8] !== 0x7b) fail(source, 'header must start with "{"');
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
  const spans: { name: string; type: TensorDType; shape: number[]; begin: number; end: number }[] = [];
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
    if (!isTensorDType(dtype)) {
      fail(
        source,
        `tensor "${name}" has unsupported dtype ${dtype} (supported: ${TENSOR_DTYPES.join(', ')})`,
      );
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) {
      fail(
        source,
        `tensor "${name}": shape must be an array of non-negative integers, got ${describeValue(shape)}`,
      );
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger)) {
      fail(
        source,
        `tensor "${name}": data_offsets must be [begin, end] integers, got ${describeValue(offsets)}`,
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
    const type = dtype as TensorDType;
    const expectedBytes = sizeOf(shape) * BYTES_PER_ELEMENT[type];
    if (end - begin !== expectedBytes) {
      fail(
        source,
        `tensor "${name}" spans ${end - begin} bytes but shape [${shape.join(', ')}] of ${type} needs ${expectedBytes}`,
      );
    }
    spans.push({ name, type, shape, begin, end });
  }
  // Tiling check: overlapping tensors would alias each other's bytes, and a gap or a short last tensor means
  // the offsets are not what the writer meant.
  const byOffset = [...spans].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let prev = '';
  for (const { name, begin, end } of byOffset) {
    if (begin < covered) fail(source, `tensors "${prev}" and "${name}" overlap in the data section`);
    if (begin > covered) {
      fail(
        source,
        `${begin - covered} bytes of the data section before tensor "${name}" belong to no tensor (a gap at ${covered})`,
      );
    }
    covered = end;
    prev = name;
  }
  if (covered !== dataLen) {
    fail(
      source,
      `the tensors cover ${covered} bytes but the data section holds ${dataLen}: the header length or offsets are wrong`,
    );
  }
  const tensors = new Map<string, SafetensorsTensor>();
  for (const { name, type, shape, begin, end } of spans)
    tensors.set(name, decodeTensor(type, shape, bytes.subarray(dataStart + begin, dataStart + end)));
  return { tensors, metadata };
}

export interface TensorToWrite {
  readonly shape: readonly number[];
  /** float32 for float dtypes; for integer dtypes the typed array a CheckpointTensor of that dtype holds. */
  readonly data: CheckpointTensor['data'];
  /** The dtype to store; default F32 for float32 data (F16/BF16 round to nearest even), else the data's own. */
  readonly dtype?: TensorDType;
}

const DTYPE_OF_ARRAY: ReadonlyArray<[new (n: number) => CheckpointTensor['data'], TensorDType]> = [
  [Float32Array, 'F32'],
  [BigInt64Array, 'I64'],
  [Int32Array, 'I32'],
  [Int16Array, 'I16'],
  [Int8Array, 'I8'],
  [Uint8Array, 'U8'],
];

/**
 * Serialises tensors to safetensors bytes (tensors in the given order, header padded with spaces to 8 bytes so
 * every tensor starts aligned).
 */
export function writeSafetensors(
  tensors: Readonly<Record<string, TensorToWrite>> | ReadonlyMap<string, TensorToWrite>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header['__metadata__'] = { ...metadata };
  let offset = 0;
  const blobs: Uint8Array[] = [];
  for (const [name, t] of entries) {
    if (name === '__metadata__')
      throw new PumerError('CHECKPOINT', 'writeSafetensors: "__metadata__" is not a valid tensor name');
    const own = DTYPE_OF_ARRAY.find(([ctor]) => t.data instanceof ctor)?.[1];
    if (!own)
      throw new PumerError('CHECKPOINT', `writeSafetensors: tensor "${name}" must hold a typed array`);
    const n = sizeOf(t.shape);
    if (n !== t.data.length) {
      throw new PumerError(
        'CHECKPOINT',
        `writeSafetensors: tensor "${name}" has ${t.data.length} values but shape [${t.shape.join(', ')}] holds ${n}`,
      );
    }
    const dtype = t.dtype ?? own;
    const blob = encodeTensor(dtype, t.data, name);
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + blob.length] };
    blobs.push(blob);
    offset += blob.length;
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
  for (const blob of blobs) {
    out.set(blob, pos);
    pos += blob.length;
  }
  return out;
}
