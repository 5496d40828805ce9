import { zipSync } from 'fflate';
import { type CheckpointTensor, encodeTensor, type TensorDType } from '../checkpoint/tensors.js';

/**
 * Writes archives shaped like `torch.save(state_dict)` output, for tests of the torch reader: the same pickle
 * opcodes (protocol 2) and zip layout PyTorch uses, with hooks to damage any part of it.
 */

/** Builds pickle bytes opcode by opcode. */
export class PickleBuilder {
  private readonly out: number[] = [];

  raw(...bytes: number[]): this {
    this.out.push(...bytes);
    return this;
  }
  proto(): this {
    return this.raw(0x80, 2);
  }
  global(module: string, name: string): this {
    return this.raw(0x63, ...ascii(`${module}\n${name}\n`));
  }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.raw(0x58, ...u32(b.length), ...b);
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.raw(0x4b, n);
    if (n >= 0 && n < 65536) return this.raw(0x4d, n & 0xff, n >> 8);
    return this.raw(0x4a, ...u32(n));
  }
  /** MARK, the items the callback pushes, TUPLE. */
  tuple(items: (b: this) => void): this {
    this.raw(0x28);
    items(this);
    return this.raw(0x74);
  }
  ints(values: readonly number[]): this {
    return this.tuple((b) => {
      for (const v of values) b.int(v);
    });
  }
  emptyTuple(): this {
    return this.raw(0x29);
  }
  reduce(): this {
    return this.raw(0x52);
  }
  stop(): this {
    return this.raw(0x2e);
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

function ascii(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0));
}

function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

/** One state-dict entry as torch.save writes it: a view (offset, size, stride) of a storage. */
export interface TorchTensorSpec {
  readonly shape: readonly number[];
  readonly stride?: readonly number[];
  readonly offset?: number;
  /** The storage: `className` as in the pickle (e.g. "FloatStorage"), its key, element count and bytes. */
  readonly storage: {
    readonly className: string;
    readonly key: string;
    readonly numel: number;
    readonly bytes?: Uint8Array;
  };
}

const STORAGE_CLASS: Record<TensorDType, string> = {
  F64: 'DoubleStorage',
  F32: 'FloatStorage',
  F16: 'HalfStorage',
  BF16: 'BFloat16Storage',
  I64: 'LongStorage',
  I32: 'IntStorage',
  I16: 'ShortStorage',
  I8: 'CharStorage',
  U8: 'ByteStorage',
  BOOL: 'BoolStorage',
};

function contiguousStride(shape: readonly number[]): number[] {
  const stride = new Array<number>(shape.length);
  for (let i = shape.length - 1, s = 1; i >= 0; i--) {
    stride[i] = s;
    s *= shape[i];
  }
  return stride;
}

/** data.pkl of a state dict: OrderedDict of name → _rebuild_tensor_v2(persistent storage, offset, size, stride, False, OrderedDict()). */
export function stateDictPickle(entries: ReadonlyMap<string, TorchTensorSpec>): Uint8Array {
  const p = new PickleBuilder().proto().global('collections', 'OrderedDict').emptyTuple().reduce().raw(0x28);
  for (const [name, t] of entries) {
    p.str(name)
      .global('torch._utils', '_rebuild_tensor_v2')
      .tuple((b) => {
        b.tuple((pid) => {
          pid
            .str('storage')
            .global('torch', t.storage.className)
            .str(t.storage.key)
            .str('cpu')
            .int(t.storage.numel);
        })
          .raw(0x51)
          .int(t.offset ?? 0)
          .ints(t.shape)
          .ints(t.stride ?? contiguousStride(t.shape))
          .raw(0x89)
          .global('collections', 'OrderedDict')
          .emptyTuple()
          .reduce();
      })
      .reduce();
  }
  return p.raw(0x75).stop().bytes();
}

/** A torch.save-style zip of `entries` (storages from each spec's `bytes`), entries stored uncompressed. */
export function torchZip(
  entries: ReadonlyMap<string, TorchTensorSpec>,
  options: { root?: string; pickle?: Uint8Array; extra?: Record<string, Uint8Array> } = {},
): Uint8Array {
  const root = options.root ?? 'archive';
  const files: Record<string, Uint8Array> = {
    [`${root}/data.pkl`]: options.pickle ?? stateDictPickle(entries),
    [`${root}/version`]: new TextEncoder().encode('3\n'),
  };
  for (const t of entries.values())
    if (t.storage.bytes) files[`${root}/data/${t.storage.key}`] = t.storage.bytes;
  Object.assign(files, options.extra ?? {});
  return zipSync(files, { level: 0 });
}

/** `torch.save(state_dict)` of whole tensors, one storage each. */
export function torchSave(tensors: ReadonlyMap<string, CheckpointTensor>): Uint8Array {
  const specs = new Map<string, TorchTensorSpec>();
  let key = 0;
  for (const [name, t] of tensors) {
    const bytes = encodeTensor(t.dtype, t.data, name);
    specs.set(name, {
      shape: t.shape,
      storage: { className: STORAGE_CLASS[t.dtype], key: String(key++), numel: t.data.length, bytes },
    });
  }
  return torchZip(specs);
}
