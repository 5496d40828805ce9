import { PumerError, sizeOf } from '@pumer/core';
import { unzipSync } from 'fflate';
import {
  BYTES_PER_ELEMENT,
  type CheckpointFile,
  type CheckpointTensor,
  decodeTensor,
  type TensorDType,
} from './tensors.js';
import { describeValue } from '../json-value.js';
import { type PickleGlobal, PickleGlobalRef, unpickle } from './unpickle.js';

/**
 * The zip archive `torch.save` writes (PyTorch >= 1.6): `<root>/data.pkl`, a pickle of the state dict whose
 * tensors refer by persistent id ('storage', storage class, key, location, numel) to raw little-endian storages
 * `<root>/data/<key>`; plus `<root>/version` and, from some versions, `<root>/byteorder`. The pickle is read by
 * the restricted unpickler with only the globals a state dict uses; nothing in the file is ever executed.
 */

/** Storage classes torch.save names, and the dtype of their elements. */
const STORAGE_DTYPES: Readonly<Record<string, TensorDType>> = {
  'torch.FloatStorage': 'F32',
  'torch.DoubleStorage': 'F64',
  'torch.HalfStorage': 'F16',
  'torch.BFloat16Storage': 'BF16',
  'torch.LongStorage': 'I64',
  'torch.IntStorage': 'I32',
  'torch.ShortStorage': 'I16',
  'torch.CharStorage': 'I8',
  'torch.ByteStorage': 'U8',
  'torch.BoolStorage': 'BOOL',
};

class StorageClass implements PickleGlobal {
  readonly call = undefined;
  constructor(readonly dtype: TensorDType) {}
}

/** One `data/<key>` storage of the archive. */
class Storage {
  constructor(
    readonly key: string,
    readonly dtype: TensorDType,
    readonly numel: number,
    readonly bytes: Uint8Array,
  ) {}
}

/** What `_rebuild_tensor_v2` returns; unwrapped into a CheckpointTensor at the end. */
class RebuiltTensor {
  constructor(readonly tensor: CheckpointTensor) {}
}

function fail(source: string, message: string): never {
  throw new PumerError('CHECKPOINT', `${source}: ${message}`);
}

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isTuple(v: unknown): v is readonly unknown[] {
  return Array.isArray(v) && Object.isFrozen(v);
}

/** The tensor `storage[offset + Σ index_i·stride_i]` of `size`, as a contiguous little-endian copy. */
function rebuildTensor(source: string, args: readonly unknown[]): RebuiltTensor {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof Storage)) return fail(source, '_rebuild_tensor: first argument is not a storage');
  if (!isIndex(offset))
    return fail(source, `_rebuild_tensor: storage offset ${String(offset)} is not an index`);
  if (!isTuple(size) || !size.every(isIndex))
    return fail(source, `_rebuild_tensor: size ${describeValue(size)} is not a tuple of sizes`);
  if (!isTuple(stride) || stride.length !== size.length || !stride.every(isIndex))
    return fail(
      source,
      `_rebuild_tensor: stride ${describeValue(stride)} does not match size [${size.join(', ')}]`,
    );
  const shape = size as number[];
  const strides = stride as number[];
  const n = sizeOf(shape);
  const es = BYTES_PER_ELEMENT[storage.dtype];
  if (n === 0) return new RebuiltTensor(decodeTensor(storage.dtype, shape, new Uint8Array(0)));
  let last = offset;
  for (let i = 0; i < shape.length; i++) last += (shape[i] - 1) * strides[i];
  if (last >= storage.numel) {
    fail(
      source,
      `a tensor of shape [${shape.join(', ')}] at storage offset ${offset} needs element ${last} of storage data/${storage.key}, which holds ${storage.numel}`,
    );
  }
  let contiguous = true;
  for (let i = shape.length - 1, expected = 1; i >= 0; i--) {
    // Size-1 dimensions may carry any stride.
    if (shape[i] !== 1 && strides[i] !== expected) contiguous = false;
    expected *= shape[i];
  }
  if (contiguous)
    return new RebuiltTensor(
      decodeTensor(storage.dtype, shape, storage.bytes.subarray(offset * es, (offset + n) * es)),
    );
  // A view saved as-is (a slice or transpose of a larger tensor): gather its elements in C order.
  const out = new Uint8Array(n * es);
  const index = new Array<number>(shape.length).fill(0);
  let at = offset;
  for (let k = 0; k < n; k++) {
    out.set(storage.bytes.subarray(at * es, (at + 1) * es), k * es);
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d]++;
      at += strides[d];
      if (index[d] < shape[d]) break;
      at -= index[d] * strides[d];
      index[d] = 0;
    }
  }
  return new RebuiltTensor(decodeTensor(storage.dtype, shape, out));
}

function stateDictGlobals(source: string): Map<string, PickleGlobal> {
  const rebuild: PickleGlobal = { call: (args) => rebuildTensor(source, args) };
  // nn.Parameter(data, requires_grad, backward_hooks[, state]): the data is the tensor.
  const parameter: PickleGlobal = {
    call: (args) => {
      if (!(args[0] instanceof RebuiltTensor))
        fail(source, '_rebuild_parameter: first argument is not a tensor');
      return args[0];
    },
  };
  const globals = new Map<string, PickleGlobal>([
    [
      'collections.OrderedDict',
      {
        call: (args) => {
          if (args.length > 0) fail(source, 'OrderedDict is expected to be built empty, then filled');
          return new Map();
        },
        // The state an OrderedDict carries is its attributes (a state dict's `_metadata`): not tensors, ignored.
        build: (_target, state) => {
          if (!(state instanceof Map)) fail(source, 'OrderedDict BUILD state must be a dict of attributes');
        },
      },
    ],
    ['torch._utils._rebuild_tensor_v2', rebuild],
    ['torch._utils._rebuild_tensor', rebuild],
    ['torch._utils._rebuild_parameter', parameter],
    ['torch._utils._rebuild_parameter_with_state', parameter],
  ]);
  // Storage classes are data only (named in persistent ids), never called.
  for (const [name, dtype] of Object.entries(STORAGE_DTYPES)) globals.set(name, new StorageClass(dtype));
  return globals;
}

/** True when `bytes` start like a zip archive (local file header `PK\x03\x04`). */
export function isZip(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04
  );
}

/** Reads the state dict of a torch.save zip archive. `source` names the file in error messages. */
export function readTorchCheckpoint(bytes: Uint8Array, source = 'pytorch_model.bin'): CheckpointFile {
  if (!(bytes instanceof Uint8Array)) fail(source, 'expected the file contents as a Uint8Array');
  if (!isZip(bytes)) fail(source, 'not a torch.save zip archive (it does not start with PK\\x03\\x04)');
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (err) {
    return fail(
      source,
      `not a readable zip archive, perhaps truncated (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  const entry = (name: string): Uint8Array | undefined =>
    Object.hasOwn(entries, name) ? entries[name] : undefined;
  const pickles = Object.keys(entries).filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pickles.length !== 1) {
    fail(
      source,
      pickles.length === 0
        ? 'the archive has no <root>/data.pkl: not a torch.save checkpoint'
        : `the archive has several data.pkl (${pickles.join(', ')})`,
    );
  }
  const root = pickles[0].slice(0, -'/data.pkl'.length);
  const byteorder = entry(`${root}/byteorder`);
  if (byteorder) {
    const order = new TextDecoder().decode(byteorder).trim();
    if (order !== 'little')
      fail(source, `storages are ${order}-endian; only little-endian checkpoints are read`);
  }

  const storages = new Map<string, Storage>();
  const persistentLoad = (pid: unknown): Storage => {
    if (!isTuple(pid) || pid.length !== 5 || pid[0] !== 'storage')
      return fail(source, `unexpected persistent id ${describePid(pid)}`);
    const [, cls, key, , numel] = pid;
    if (!(cls instanceof PickleGlobalRef) || !(cls.global instanceof StorageClass))
      return fail(source, `persistent id names ${describePid(cls)}, not a storage class`);
    if (typeof key !== 'string' || !isIndex(numel))
      return fail(source, `malformed persistent id ${describePid(pid)}`);
    const known = storages.get(key);
    if (known) {
      if (known.dtype !== cls.global.dtype || known.numel !== numel)
        fail(source, `storage data/${key} is named with two different types or sizes`);
      return known;
    }
    const data = entry(`${root}/data/${key}`);
    if (!data) return fail(source, `storage ${root}/data/${key} is missing from the archive`);
    const need = numel * BYTES_PER_ELEMENT[cls.global.dtype];
    // torch.save writes each storage whole, so its record holds exactly numel elements: a record of another
    // size means the pickle names the wrong type or size (a HalfStorage read over float32 bytes would load).
    if (data.length !== need) {
      fail(
        source,
        `storage data/${key} holds ${data.length} bytes, but ${numel} elements of ${cls.global.dtype} need ${need}`,
      );
    }
    const storage = new Storage(key, cls.global.dtype, numel, data);
    storages.set(key, storage);
    return storage;
  };
  const globals = stateDictGlobals(source);
  const value = unpickle(entry(pickles[0]) as Uint8Array, {
    source: `${source} (${pickles[0]})`,
    globals,
    resolveGlobal: (name) => {
      if (!globals.has(name) && /^torch\.\w*Storage$/.test(name)) {
        fail(
          source,
          `unsupported storage type ${name} (supported: ${Object.keys(STORAGE_DTYPES).join(', ')})`,
        );
      }
      return undefined;
    },
    persistentLoad,
  });

  if (!(value instanceof Map)) fail(source, 'the pickle does not hold a state dict (a dict of tensors)');
  const tensors = new Map<string, CheckpointTensor>();
  for (const [name, t] of value as Map<unknown, unknown>) {
    if (typeof name !== 'string') fail(source, `state dict key ${String(name)} is not a string`);
    if (!(t instanceof RebuiltTensor)) fail(source, `state dict entry "${String(name)}" is not a tensor`);
    tensors.set(name as string, (t as RebuiltTensor).tensor);
  }
  return { tensors, metadata: {} };
}

function describePid(v: unknown): string {
  if (v instanceof PickleGlobalRef) return v.name;
  if (isTuple(v)) return `(${v.map(describePid).join(', ')})`;
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}
