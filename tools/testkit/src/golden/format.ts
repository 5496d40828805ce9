import { PumerError } from '@pumer/core';

/**
 * The golden-vector format `pumer-golden/1` (docs/architecture.md, "Golden vectors"): JSON files produced
 * by running the PuMer authors' PyTorch code on random inputs. This module only parses and validates; it
 * reads no files, so it also runs in a browser.
 */
export const GOLDEN_FORMAT = 'pumer-golden/1';
export const GOLDEN_KINDS = ['tome_merge', 'tip_merge', 'vilt_block'] as const;
export type GoldenKind = (typeof GOLDEN_KINDS)[number];

export interface GoldenTensor {
  readonly dtype: 'float32' | 'int64';
  readonly shape: readonly number[];
  readonly data: readonly number[];
}

export interface GoldenCase {
  readonly name: string;
  readonly kind: GoldenKind;
  readonly params: Readonly<Record<string, unknown>>;
  readonly inputs: Readonly<Record<string, GoldenTensor>>;
  /** Output tensors; scalar outputs (vilt_block's `text_len`) are in `scalars`. */
  readonly outputs: Readonly<Record<string, GoldenTensor>>;
  readonly scalars: Readonly<Record<string, number>>;
  readonly weights: Readonly<Record<string, GoldenTensor>>;
}

/** What a well-formed case of each kind must carry. */
const REQUIRED: Record<
  GoldenKind,
  { inputs: string[]; outputs: string[]; scalars: string[]; params: string[]; weights: string[] }
> = {
  tome_merge: {
    inputs: ['metric', 'x'],
    outputs: ['x', 'size'],
    scalars: [],
    params: ['r', 'class_token'],
    weights: [],
  },
  tip_merge: {
    inputs: ['metric', 'x', 'text_saliency'],
    outputs: ['x'],
    scalars: [],
    params: ['r'],
    weights: [],
  },
  vilt_block: {
    inputs: ['x', 'mask'],
    outputs: ['x', 'mask', 'attn'],
    scalars: ['text_len'],
    params: ['heads', 'text_len', 'layer_norm_eps'],
    weights: [
      'norm1.weight',
      'norm1.bias',
      'attn.qkv.weight',
      'attn.proj.weight',
      'attn.proj.bias',
      'norm2.weight',
      'norm2.bias',
      'mlp.fc1.weight',
      'mlp.fc1.bias',
      'mlp.fc2.weight',
      'mlp.fc2.bias',
    ],
  },
};

function fail(message: string): never {
  throw new PumerError('GOLDEN', message);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates one tensor object: dtype, integer shape, data length = product of the shape, numeric values. */
export function parseGoldenTensor(where: string, v: unknown): GoldenTensor {
  if (!isRecord(v)) fail(`${where} is not a tensor object`);
  const { dtype, shape, data } = v;
  if (dtype !== 'float32' && dtype !== 'int64')
    fail(`${where}.dtype must be "float32" or "int64", got ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    fail(`${where}.shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(data)) fail(`${where}.data must be an array`);
  const size = (shape as number[]).reduce((a, b) => a * b, 1);
  if (data.length !== size)
    fail(`${where}.data has ${data.length} values, shape [${shape.join(', ')}] needs ${size}`);
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (typeof x !== 'number' || !Number.isFinite(x))
      fail(`${where}.data[${i}] is not a finite number (${JSON.stringify(x)})`);
    if (dtype === 'int64' && !Number.isInteger(x))
      fail(`${where}.data[${i}] = ${x} is not an integer (dtype int64)`);
  }
  return { dtype, shape: shape as number[], data: data as number[] };
}

function parseTensorMap(where: string, v: unknown, allowScalars: boolean) {
  if (v === undefined) return { tensors: {}, scalars: {} };
  if (!isRecord(v)) fail(`${where} must be an object`);
  const tensors: Record<string, GoldenTensor> = {};
  const scalars: Record<string, number> = {};
  for (const [k, t] of Object.entries(v)) {
    if (allowScalars && typeof t === 'number') {
      if (!Number.isFinite(t)) fail(`${where}.${k} is not a finite number`);
      scalars[k] = t;
    } else {
      tensors[k] = parseGoldenTensor(`${where}.${k}`, t);
    }
  }
  return { tensors, scalars };
}

/**
 * Parses one decoded JSON document into a GoldenCase, or throws a PumerError (code GOLDEN) whose message says
 * what is wrong; `source` (e.g. the file name) prefixes nothing but names the default case name.
 */
export function parseGoldenCase(doc: unknown, source: string): GoldenCase {
  if (!isRecord(doc)) fail('the document is not a JSON object');
  if (doc['format'] !== GOLDEN_FORMAT)
    fail(`format must be "${GOLDEN_FORMAT}", got ${JSON.stringify(doc['format'])}`);
  const kind = doc['kind'];
  if (!(GOLDEN_KINDS as readonly unknown[]).includes(kind)) {
    fail(`kind must be one of ${GOLDEN_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  }
  const name = typeof doc['name'] === 'string' && doc['name'].length > 0 ? doc['name'] : source;
  const params = doc['params'] ?? {};
  if (!isRecord(params)) fail('params must be an object');
  const inputs = parseTensorMap('inputs', doc['inputs'], false).tensors;
  const outs = parseTensorMap('outputs', doc['outputs'], true);
  const weights = parseTensorMap('weights', doc['weights'], false).tensors;
  const req = REQUIRED[kind as GoldenKind];
  for (const k of req.inputs) if (!(k in inputs)) fail(`inputs.${k} is missing (required by ${kind})`);
  for (const k of req.outputs)
    if (!(k in outs.tensors)) fail(`outputs.${k} is missing (required by ${kind})`);
  for (const k of req.scalars)
    if (!(k in outs.scalars)) fail(`outputs.${k} is missing or not a number (required by ${kind})`);
  for (const k of req.params) if (!(k in params)) fail(`params.${k} is missing (required by ${kind})`);
  for (const k of req.weights) if (!(k in weights)) fail(`weights.${k} is missing (required by ${kind})`);
  return {
    name,
    kind: kind as GoldenKind,
    params,
    inputs,
    outputs: outs.tensors,
    scalars: outs.scalars,
    weights,
  };
}
