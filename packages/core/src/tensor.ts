import { PumerError, ShapeError } from './errors.js';

/** The two element types PuMer.js moves around: values in float32, indices in int32. */
export type DType = 'float32' | 'int32';
export type DataOf<D extends DType> = D extends 'float32' ? Float32Array : Int32Array;

/** A dense row-major tensor: a typed array and an explicit shape. Immutable by convention. */
export interface Tensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: DataOf<D>;
}

export type FloatTensor = Tensor<'float32'>;
export type IntTensor = Tensor<'int32'>;

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0)
      throw new ShapeError(`invalid dimension ${d} in shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

function make<D extends DType>(dtype: D, data: DataOf<D>, shape: readonly number[]): Tensor<D> {
  const n = sizeOf(shape);
  if (data.length !== n) {
    throw new ShapeError(
      `${dtype} data of length ${data.length} does not fit shape [${shape.join(', ')}] (${n} elements)`,
    );
  }
  return { dtype, data, shape: [...shape] };
}

/** A float32 tensor over `data` (copied from a plain array, or wrapped if already a Float32Array). */
export function floatTensor(data: Float32Array | ArrayLike<number>, shape: readonly number[]): FloatTensor {
  return make('float32', data instanceof Float32Array ? data : Float32Array.from(data), shape);
}

/** An int32 tensor over `data` (copied from a plain array, or wrapped if already an Int32Array). */
export function intTensor(data: Int32Array | ArrayLike<number>, shape: readonly number[]): IntTensor {
  return make('int32', data instanceof Int32Array ? data : Int32Array.from(data), shape);
}

export function zeros(shape: readonly number[]): FloatTensor {
  return make('float32', new Float32Array(sizeOf(shape)), shape);
}

/** Throws a ShapeError unless `t` has rank `expected.length` and matches every non-null dimension. */
export function expectShape(name: string, t: Tensor, expected: readonly (number | null)[]): void {
  const ok = t.shape.length === expected.length && expected.every((d, i) => d === null || t.shape[i] === d);
  if (!ok) {
    const want = expected.map((d) => (d === null ? '?' : String(d))).join(', ');
    throw new ShapeError(`${name} has shape [${t.shape.join(', ')}], expected [${want}]`);
  }
}

/** Throws if any element is NaN or infinite: reducers rank and sort, and NaN poisons every comparison. */
export function expectFinite(name: string, t: Tensor): void {
  const d = t.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i])) {
      throw new PumerError('VALUE', `${name} contains a non-finite value (${d[i]}) at flat index ${i}`);
    }
  }
}
