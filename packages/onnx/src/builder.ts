import { PumerError } from '@pumer/core';
import {
  ATTR_TYPE,
  type AttributeProtoInit,
  DATA_LOCATION_EXTERNAL,
  encodeModel,
  type ModelProtoInit,
  type NodeProtoInit,
  ONNX_DTYPE,
  type OnnxDType,
  type TensorProtoInit,
  type ValueInfoProtoInit,
} from './proto.js';

/** The ONNX opset every PuMer graph targets (LayerNormalization needs 17). */
export const OPSET = 17;
/** IR version 8 goes with opset 17. */
export const IR_VERSION = 8;

/** A dimension: a fixed size, or a symbolic name such as 'batch'. */
export type Dim = number | string;

/** A typed attribute value; build them with `attr.*` so ints and floats never get confused. */
export type AttrValue =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'string'; readonly value: string };

export const attr = {
  int: (value: number): AttrValue => ({ kind: 'int', value }),
  float: (value: number): AttrValue => ({ kind: 'float', value }),
  ints: (value: readonly number[]): AttrValue => ({ kind: 'ints', value }),
  floats: (value: readonly number[]): AttrValue => ({ kind: 'floats', value }),
  string: (value: string): AttrValue => ({ kind: 'string', value }),
};

type TypedData = Float32Array | Int32Array | BigInt64Array | Uint8Array;

/** Bytes per element of each initializer type. */
const ELEMENT_BYTES: Readonly<Record<OnnxDType, number>> = { float32: 4, int32: 4, int64: 8, bool: 1 };

/**
 * An initializer as stored until the graph is written: its data, or how to make it (a weight derived from the
 * checkpoint's, e.g. transposed), so a derived copy exists only while it is being written, and never when a
 * cached graph makes writing unnecessary.
 */
interface PendingInitializer {
  readonly name: string;
  readonly dtype: OnnxDType;
  readonly dims: readonly number[];
  readonly data: TypedData | (() => TypedData);
}

/** One tensor of an external-data weights file: where it goes and how to get its bytes. */
export interface ExternalTensor {
  readonly name: string;
  readonly offset: number;
  readonly byteLength: number;
  /** The tensor's little-endian bytes (made on demand for derived weights: write them, then drop them). */
  bytes(): Uint8Array;
}

/** A graph laid out as a small .onnx plus a weights file (ONNX external data) that `location` names. */
export interface ExternalDataModel {
  /** The .onnx bytes: nodes, small constants, and for every large initializer its place in the weights file. */
  readonly model: Uint8Array;
  /** The weights file's tensors, in file order. */
  readonly tensors: readonly ExternalTensor[];
  /** The weights file's size in bytes. */
  readonly dataBytes: number;
}

export interface ExternalDataOptions {
  /** The weights file's name, relative to the .onnx file. */
  readonly location: string;
  /** Initializers of at least this many bytes go to the weights file (default 1024). */
  readonly minBytes?: number;
  /**
   * Each tensor's offset is a multiple of this (default 4096, the page size), so a runtime can map the file
   * instead of copying it.
   */
  readonly align?: number;
}

function toAttribute(name: string, a: AttrValue): AttributeProtoInit {
  switch (a.kind) {
    case 'int':
      return { name, type: ATTR_TYPE.INT, i: a.value };
    case 'float':
      return { name, type: ATTR_TYPE.FLOAT, f: a.value };
    case 'ints':
      return { name, type: ATTR_TYPE.INTS, ints: [...a.value] };
    case 'floats':
      return { name, type: ATTR_TYPE.FLOATS, floats: [...a.value] };
    case 'string':
      return { name, type: ATTR_TYPE.STRING, s: new TextEncoder().encode(a.value) };
  }
}

function valueInfo(name: string, dtype: OnnxDType, dims: readonly Dim[]): ValueInfoProtoInit {
  return {
    name,
    type: {
      tensorType: {
        elemType: ONNX_DTYPE[dtype],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Little-endian raw bytes of a typed array (ONNX's raw_data layout), without copying on LE hosts. */
function rawBytes(data: TypedData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function checkFits(hint: string, dims: readonly number[], data: TypedData): void {
  let n = 1;
  for (const d of dims) n *= d;
  if (data.length !== n) {
    throw new PumerError(
      'SHAPE',
      `initializer ${hint}: ${data.length} values do not fit [${dims.join(', ')}]`,
    );
  }
}

/** An initializer's data, made now if it is derived (and checked then, as given data is when added). */
function materialise(init: PendingInitializer): TypedData {
  if (typeof init.data !== 'function') return init.data;
  const data = init.data();
  checkFits(init.name, init.dims, data);
  return data;
}

/**
 * Builds one ONNX graph in code. Every method returns the name of the value it produced, so graph code reads
 * like the math it computes: `const h = g.add(g.matmul(x, w), b)`. Names are made unique automatically.
 * Pure TypeScript + protobufjs: works in Node and in the browser.
 */
export class GraphBuilder {
  readonly name: string;
  private readonly nodes: NodeProtoInit[] = [];
  private readonly initializers: PendingInitializer[] = [];
  private readonly inputs: ValueInfoProtoInit[] = [];
  private readonly outputs: ValueInfoProtoInit[] = [];
  private readonly names = new Set<string>();
  private readonly smallConstants = new Map<string, string>();
  private readonly sharedValues = new WeakMap<object, Map<string, string>>();
  private counter = 0;
  /** Prefix of generated value names (e.g. 'layer3'), so profiles and dumps say where a node belongs. */
  scope = '';

  constructor(name: string) {
    this.name = name;
  }

  /** A fresh value name starting with `hint`. */
  fresh(hint: string): string {
    let name = hint;
    while (this.names.has(name)) name = `${hint}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  /** Declares a graph input. */
  input(name: string, dtype: OnnxDType, dims: readonly Dim[]): string {
    if (this.names.has(name))
      throw new PumerError('VALUE', `graph ${this.name}: value "${name}" already exists`);
    this.names.add(name);
    this.inputs.push(valueInfo(name, dtype, dims));
    return name;
  }

  /** Declares `value` as the graph output `name` (through an Identity when the names differ). */
  output(value: string, name: string, dtype: OnnxDType, dims: readonly Dim[]): void {
    let out = value;
    if (value !== name) {
      if (this.names.has(name))
        throw new PumerError('VALUE', `graph ${this.name}: output "${name}" already exists`);
      this.names.add(name);
      this.nodes.push({
        input: [value],
        output: [name],
        name: `${name}_out`,
        opType: 'Identity',
        attribute: [],
      });
      out = name;
    }
    this.outputs.push(valueInfo(out, dtype, dims));
  }

  /**
   * A named weight or constant stored in the graph. `data` may be a function making it (a derived weight): it is
   * called only when the graph is written, and its result is not kept.
   */
  initializer(
    hint: string,
    dtype: OnnxDType,
    dims: readonly number[],
    data: TypedData | (() => TypedData),
  ): string {
    if (typeof data !== 'function') checkFits(hint, dims, data);
    const name = this.fresh(hint);
    this.initializers.push({ name, dtype, dims: [...dims], data });
    return name;
  }

  /**
   * The value `make` builds for (`owner`, `tag`), built once per graph: a weight read by several encoder passes
   * (NLVR2 runs one per image) is stored once. `tag` names what `make` derives from `owner` (e.g. a transpose).
   */
  shared(owner: object, tag: string, make: () => string): string {
    let byTag = this.sharedValues.get(owner);
    if (!byTag) {
      byTag = new Map();
      this.sharedValues.set(owner, byTag);
    }
    let hit = byTag.get(tag);
    if (hit === undefined) {
      hit = make();
      byTag.set(tag, hit);
    }
    return hit;
  }

  private small(
    dtype: OnnxDType,
    dims: readonly number[],
    values: ArrayLike<number>,
    make: () => TypedData,
  ): string {
    const key = `${dtype}|${dims.join(',')}|${Array.from(values).join(',')}`;
    const hit = this.smallConstants.get(key);
    if (hit) return hit;
    const name = this.initializer(`c_${dtype}`, dtype, dims, make());
    if (values.length <= 4096) this.smallConstants.set(key, name);
    return name;
  }

  /** float32 constant; `dims` defaults to a vector ([] for a scalar). */
  floats(values: ArrayLike<number>, dims: readonly number[] = [values.length]): string {
    return this.small('float32', dims, values, () => Float32Array.from(values));
  }
  float(value: number): string {
    return this.floats([value], []);
  }
  ints32(values: ArrayLike<number>, dims: readonly number[] = [values.length]): string {
    return this.small('int32', dims, values, () => Int32Array.from(values));
  }
  /** int64 constant: shapes, axes, slice bounds (ONNX requires int64 there). */
  ints64(values: ArrayLike<number>, dims: readonly number[] = [values.length]): string {
    return this.small('int64', dims, values, () => BigInt64Array.from(Array.from(values, (v) => BigInt(v))));
  }
  bools(values: ArrayLike<boolean | number>, dims: readonly number[] = [values.length]): string {
    const nums = Array.from(values, (v) => (v ? 1 : 0));
    return this.small('bool', dims, nums, () => Uint8Array.from(nums));
  }

  /** Adds a node with `outputs` results; returns their names. */
  node(
    op: string,
    inputs: readonly string[],
    attrs: Record<string, AttrValue> = {},
    outputs = 1,
    hint = op,
  ): string[] {
    const scoped = this.scope ? `${this.scope}/${hint}` : hint;
    const outs = Array.from({ length: outputs }, () => this.fresh(scoped));
    this.nodes.push({
      input: [...inputs],
      output: outs,
      name: `${outs[0]}_node`,
      opType: op,
      attribute: Object.entries(attrs).map(([k, v]) => toAttribute(k, v)),
    });
    return outs;
  }

  /** Runs `build` with generated names prefixed by `scope`. */
  within<T>(scope: string, build: () => T): T {
    const saved = this.scope;
    this.scope = scope;
    try {
      return build();
    } finally {
      this.scope = saved;
    }
  }

  /** Adds a single-output node. */
  op(op: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, hint = op): string {
    return this.node(op, inputs, attrs, 1, hint)[0];
  }

  // --- elementwise and shape helpers (named as the math) ---
  add(a: string, b: string): string {
    return this.op('Add', [a, b]);
  }
  sub(a: string, b: string): string {
    return this.op('Sub', [a, b]);
  }
  mul(a: string, b: string): string {
    return this.op('Mul', [a, b]);
  }
  div(a: string, b: string): string {
    return this.op('Div', [a, b]);
  }
  matmul(a: string, b: string): string {
    return this.op('MatMul', [a, b]);
  }
  cast(x: string, to: OnnxDType): string {
    return this.op('Cast', [x], { to: attr.int(ONNX_DTYPE[to]) });
  }
  transpose(x: string, perm: readonly number[]): string {
    return this.op('Transpose', [x], { perm: attr.ints(perm) });
  }
  /** Reshape; 0 copies the input's dimension (keeps a dynamic batch), -1 infers one. */
  reshape(x: string, shape: readonly number[]): string {
    return this.op('Reshape', [x, this.ints64(shape)]);
  }
  unsqueeze(x: string, axes: readonly number[]): string {
    return this.op('Unsqueeze', [x, this.ints64(axes)]);
  }
  squeeze(x: string, axes: readonly number[]): string {
    return this.op('Squeeze', [x, this.ints64(axes)]);
  }
  concat(xs: readonly string[], axis: number): string {
    return xs.length === 1 ? xs[0] : this.op('Concat', xs, { axis: attr.int(axis) });
  }
  /** x[..., start:end:step, ...] along one axis. */
  slice(x: string, axis: number, start: number, end: number, step = 1): string {
    return this.op('Slice', [
      x,
      this.ints64([start]),
      this.ints64([end]),
      this.ints64([axis]),
      this.ints64([step]),
    ]);
  }
  split(x: string, axis: number, sizes: readonly number[]): string[] {
    return this.node('Split', [x, this.ints64(sizes)], { axis: attr.int(axis) }, sizes.length);
  }
  reduceSum(x: string, axes: readonly number[], keepdims = true): string {
    return this.op('ReduceSum', [x, this.ints64(axes)], { keepdims: attr.int(keepdims ? 1 : 0) });
  }
  /** ReduceMax/Min/Mean take `axes` as an attribute up to opset 17. */
  reduce(
    op: 'ReduceMax' | 'ReduceMin' | 'ReduceMean',
    x: string,
    axes: readonly number[],
    keepdims = true,
  ): string {
    return this.op(op, [x], { axes: attr.ints(axes), keepdims: attr.int(keepdims ? 1 : 0) });
  }
  /** Pads the end (or start) of one axis of a rank-`rank` tensor with a constant. */
  pad(x: string, rank: number, axis: number, before: number, after: number, value: number): string {
    const pads = new Array(2 * rank).fill(0);
    pads[axis] = before;
    pads[rank + axis] = after;
    return this.op('Pad', [x, this.ints64(pads), this.float(value)], { mode: attr.string('constant') });
  }
  where(cond: string, a: string, b: string): string {
    return this.op('Where', [cond, a, b]);
  }

  /** The model proto, ready to encode. */
  toModel(docString?: string): ModelProtoInit {
    return this.modelWith(
      this.initializers.map((i) => ({
        name: i.name,
        dataType: ONNX_DTYPE[i.dtype],
        dims: [...i.dims],
        rawData: rawBytes(materialise(i)),
      })),
      docString,
    );
  }

  /**
   * The graph as ONNX with external data: initializers of at least `minBytes` bytes are laid out, aligned, in
   * a weights file named `location` (written by the caller from `tensors`, one at a time), the rest stay in the
   * .onnx. A runtime loading the .onnx from disk reads (or maps) the weights from that file, so the weights
   * are never serialised into one large buffer.
   */
  toExternalData(options: ExternalDataOptions): ExternalDataModel {
    const minBytes = options.minBytes ?? 1024;
    const align = options.align ?? 4096;
    const tensors: ExternalTensor[] = [];
    const protos: TensorProtoInit[] = [];
    let end = 0;
    for (const init of this.initializers) {
      let n = 1;
      for (const d of init.dims) n *= d;
      const byteLength = n * ELEMENT_BYTES[init.dtype];
      const base = { name: init.name, dataType: ONNX_DTYPE[init.dtype], dims: [...init.dims] };
      if (byteLength < minBytes) {
        protos.push({ ...base, rawData: rawBytes(materialise(init)) });
        continue;
      }
      const offset = Math.ceil(end / align) * align;
      end = offset + byteLength;
      tensors.push({ name: init.name, offset, byteLength, bytes: () => rawBytes(materialise(init)) });
      protos.push({
        ...base,
        dataLocation: DATA_LOCATION_EXTERNAL,
        externalData: [
          { key: 'location', value: options.location },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(byteLength) },
        ],
      });
    }
    return { model: encodeModel(this.modelWith(protos)), tensors, dataBytes: end };
  }

  private modelWith(initializer: TensorProtoInit[], docString?: string): ModelProtoInit {
    return {
      irVersion: IR_VERSION,
      producerName: 'pumer.js',
      producerVersion: '0.1.0',
      ...(docString ? { docString } : {}),
      graph: {
        name: this.name,
        node: this.nodes,
        initializer,
        input: this.inputs,
        output: this.outputs,
      },
      opsetImport: [{ domain: '', version: OPSET }],
    };
  }

  /** The serialised .onnx model. */
  toOnnxBytes(docString?: string): Uint8Array {
    return encodeModel(this.toModel(docString));
  }

  /** Node count, for tests and diagnostics. */
  get nodeCount(): number {
    return this.nodes.length;
  }
}
