import {
  type Backend,
  type BlockArgs,
  type FloatTensor,
  floatTensor,
  type MergeArgs,
  namedSchedule,
  type PumerErrorCode,
  type ReductionConfig,
  type SaliencyInputs,
  seededRandom,
  type Tensor,
} from '@pumer/core';
import { randomBlockWeights, randomTensor } from '../random.js';
import { EXPECTED } from './expected.js';

/**
 * The backend contract suite: data-only cases that run against any `Backend`. A good case returns plain JSON
 * (numbers, arrays) compared with hard-coded expected values (expected.ts, the CPU reference's outputs); a
 * bad case expects a PumerError code —
 * per core's argument checks: a missing input, a bad count, an unknown method or a non-finite value is VALUE,
 * a wrong dtype, rank or size is SHAPE (docs/reducers.md, "Argument checks and error codes").
 */

export type ContractGroup = 'saliency' | 'prune' | 'merge' | 'block';

/** What a case must give: a value (numbers within `tolerance`, everything else equal) or a PumerError code. */
export type ContractExpectation =
  | { readonly value: unknown; readonly tolerance: number }
  | { readonly error: PumerErrorCode };

export interface ContractCase {
  readonly name: string;
  readonly group: ContractGroup;
  /** Calls the backend; resolves to plain JSON (tensors as { shape, data }). */
  run(backend: Backend): Promise<unknown>;
  readonly expect: ContractExpectation;
}

/** A tensor as plain JSON. */
export interface PlainTensor {
  readonly shape: number[];
  readonly data: number[];
}

export function plain(t: Tensor | null | undefined): PlainTensor | null {
  return t ? { shape: [...t.shape], data: Array.from(t.data) } : null;
}

const t = (data: ArrayLike<number>, shape: readonly number[]) => floatTensor(data, shape);

/** Values are compared within |a - b| <= tol·(1 + |b|); the CPU reference is printed to 7 digits. */
const TOL = 1e-5;
const BLOCK_TOL = 1e-4;

function good(
  name: string,
  group: ContractGroup,
  run: (b: Backend) => Promise<unknown>,
  tolerance = TOL,
): ContractCase {
  const value = EXPECTED[name];
  if (value === undefined) throw new Error(`contract case "${name}" has no expected value`);
  return { name, group, run, expect: { value, tolerance } };
}

function bad(
  name: string,
  group: ContractGroup,
  error: PumerErrorCode,
  run: (b: Backend) => Promise<unknown>,
): ContractCase {
  return { name, group, run, expect: { error } };
}

// --- saliency: B 1, 2 heads, N 4 tokens (2 text, then 2 image), a fractional text mask -------------------

// biome-ignore format: one attention row a line
const ATTN = t([
  0.4, 0.3, 0.2, 0.1,   0.1, 0.2, 0.4, 0.3,   0.25, 0.25, 0.25, 0.25,   0.7, 0.1, 0.1, 0.1, // head 0
  0.1, 0.1, 0.5, 0.3,   0.2, 0.2, 0.2, 0.4,   0.3, 0.3, 0.2, 0.2,       0.1, 0.6, 0.2, 0.1, // head 1
], [1, 2, 4, 4]);
const KBAR = t([1, 0, 0, 1, 1, 1, 0.5, -1], [1, 4, 2]);
const QBAR = t([0, 1, 2, 0, 0.5, 0.5, 1, -1], [1, 4, 2]);
const TEXT_MASK = t([1, 0.5], [1, 2]);
const SALIENCY_INPUTS: SaliencyInputs = { attn: ATTN, kbar: KBAR, qbar: QBAR, textMask: TEXT_MASK };

const saliency = (method: string, inputs: SaliencyInputs) => async (b: Backend) =>
  plain(await b.pruner.saliency(method as never, inputs));

// --- prune ---------------------------------------------------------------------------------------------------

// Exact ties: the lower index first.
const SCORES = t([0.5, 0.9, 0.5, 0.9, 0.1, 0.3, 0.2, 0.1, 0.4, 0.5], [2, 5]);

const prune = (scores: FloatTensor, keep: number) => async (b: Backend) => {
  const r = await b.pruner.prune(scores, keep);
  return { keepIdx: plain(r.keepIdx), scores: plain(r.scores) };
};

// --- merge: 5 tokens of width 2; rows 0/2 and 1/3 are near-duplicates in the metric ---------------------

const X = t([1, 0, 0, 1, 1, 1, 2, 0, 0, 2], [1, 5, 2]);
const METRIC = t([1, 0, 0, 1, 1, 0.1, 0.1, 1, 1, 1], [1, 5, 2]);
const SALIENCY = t([0.5, 0.1, 0.2, 0.3, 0.4], [1, 5]);
const SIZE = t([1, 2, 1, 1, 1], [1, 5, 1]);

const merge = (args: Record<string, unknown>) => async (b: Backend) => {
  const r = await b.merger.merge(args as unknown as MergeArgs);
  return { x: plain(r.x), size: plain(r.size), dst: plain(r.dst), r: r.r };
};
const mergeArgs = (over: Record<string, unknown>) => ({
  style: 'tip',
  x: X,
  metric: METRIC,
  saliency: SALIENCY,
  r: 1,
  ...over,
});

// --- block: width 4, 2 heads, MLP 8; 3 text tokens (the last padded) then 8 image tokens -----------------

const D = 4;
const N = 11;
const TEXT = 3;
const WEIGHTS = randomBlockWeights(seededRandom(5), D, 2 * D);
const BLOCK_X = randomTensor(seededRandom(6), [1, N, D]);
const BLOCK_MASK = t(
  Array.from({ length: N }, (_, i) => (i === TEXT - 1 ? 0 : 1)),
  [1, N],
);
// core's `aggressive` schedule on a one-layer model reduces at layer 0.
const REDUCE: ReductionConfig | null = namedSchedule('aggressive', 1);

const blockArgs = (over: Record<string, unknown>): BlockArgs =>
  ({
    weights: WEIGHTS,
    numHeads: 2,
    x: BLOCK_X,
    mask: BLOCK_MASK,
    textLen: TEXT,
    config: null,
    layer: 0,
    ...over,
  }) as BlockArgs;

const block = (args: BlockArgs) => async (b: Backend) => {
  const r = await b.runBlock(args);
  return {
    textLen: r.textLen,
    x: plain(r.x),
    mask: plain(r.mask),
    keepIdx: plain(r.trace.keepIdx),
    imageDst: plain(r.trace.imageDst),
    textDst: plain(r.trace.textDst),
  };
};

const nanAt = (x: FloatTensor, i: number) => {
  const data = Float32Array.from(x.data);
  data[i] = Number.NaN;
  return floatTensor(data, x.shape);
};

export const CONTRACT_CASES: readonly ContractCase[] = [
  // saliency: each method on the same inputs
  good('saliency first_head', 'saliency', saliency('first_head', SALIENCY_INPUTS)),
  good('saliency mean_head', 'saliency', saliency('mean_head', SALIENCY_INPUTS)),
  good('saliency k_metric', 'saliency', saliency('k_metric', SALIENCY_INPUTS)),
  good('saliency qk', 'saliency', saliency('qk', SALIENCY_INPUTS)),
  bad('saliency: unknown method', 'saliency', 'VALUE', saliency('max_head', SALIENCY_INPUTS)),
  bad(
    'saliency: first_head without attn',
    'saliency',
    'VALUE',
    saliency('first_head', { textMask: TEXT_MASK }),
  ),
  bad('saliency: k_metric without kbar', 'saliency', 'VALUE', saliency('k_metric', { textMask: TEXT_MASK })),
  bad('saliency: qk without qbar', 'saliency', 'VALUE', saliency('qk', { kbar: KBAR, textMask: TEXT_MASK })),
  bad(
    'saliency: text covering every token',
    'saliency',
    'VALUE',
    saliency('first_head', { attn: ATTN, textMask: t([1, 1, 1, 1], [1, 4]) }),
  ),
  bad(
    'saliency: a text mask row summing to 0',
    'saliency',
    'VALUE',
    saliency('mean_head', { attn: ATTN, textMask: t([0, 0], [1, 2]) }),
  ),

  // prune
  good('prune keep 4 of 5, ties lower index first', 'prune', prune(SCORES, 4)),
  good('prune keep all', 'prune', prune(SCORES, 5)),
  bad('prune: keep 0', 'prune', 'VALUE', prune(SCORES, 0)),
  bad('prune: keep above the token count', 'prune', 'VALUE', prune(SCORES, 6)),
  bad('prune: keep not an integer', 'prune', 'VALUE', prune(SCORES, 2.5)),
  bad('prune: NaN score', 'prune', 'VALUE', prune(nanAt(SCORES, 3), 2)),
  bad('prune: scores of rank 1', 'prune', 'SHAPE', prune(t([0.5, 0.9, 0.1], [3]), 2)),

  // merge
  good('merge tip r=1', 'merge', merge(mergeArgs({}))),
  good('merge tome r=1 protecting row 0', 'merge', merge(mergeArgs({ style: 'tome', protectFirst: true }))),
  good(
    'merge tome r=2 unprotected, with sizes',
    'merge',
    merge(mergeArgs({ style: 'tome', protectFirst: false, size: SIZE, r: 2 })),
  ),
  good('merge diff r=2', 'merge', merge(mergeArgs({ style: 'diff', r: 2 }))),
  good('merge r=0 changes nothing', 'merge', merge(mergeArgs({ style: 'tome', r: 0 }))),
  good('merge r above the limit is clamped', 'merge', merge(mergeArgs({ style: 'tome', r: 10 }))),
  bad('merge: unknown style', 'merge', 'VALUE', merge(mergeArgs({ style: 'average' }))),
  bad('merge: tip without metric', 'merge', 'VALUE', merge(mergeArgs({ metric: undefined }))),
  bad('merge: tip without saliency', 'merge', 'VALUE', merge(mergeArgs({ saliency: undefined }))),
  bad(
    'merge: diff without saliency',
    'merge',
    'VALUE',
    merge(mergeArgs({ style: 'diff', saliency: undefined })),
  ),
  bad('merge: negative r', 'merge', 'VALUE', merge(mergeArgs({ r: -1 }))),
  bad('merge: r not an integer', 'merge', 'VALUE', merge(mergeArgs({ r: 1.5 }))),
  bad('merge: x of rank 2', 'merge', 'SHAPE', merge(mergeArgs({ x: t(X.data, [5, 2]) }))),
  bad(
    'merge: metric of the wrong length',
    'merge',
    'SHAPE',
    merge(mergeArgs({ metric: t(METRIC.data.slice(0, 8), [1, 4, 2]) })),
  ),
  bad('merge: NaN in x', 'merge', 'VALUE', merge(mergeArgs({ x: nanAt(X, 3) }))),
  bad(
    'merge: a zero size',
    'merge',
    'VALUE',
    merge(mergeArgs({ style: 'tome', size: t([1, 0, 1, 1, 1], [1, 5, 1]) })),
  ),

  // block
  good('block without reduction', 'block', block(blockArgs({})), BLOCK_TOL),
  good('block reducing (aggressive at layer 0)', 'block', block(blockArgs({ config: REDUCE })), BLOCK_TOL),
  good(
    'block whose layer is not a reduce layer',
    'block',
    block(blockArgs({ config: REDUCE, layer: 1 })),
    BLOCK_TOL,
  ),
  bad(
    'block: mask of the wrong shape',
    'block',
    'SHAPE',
    block(blockArgs({ mask: t(BLOCK_MASK.data.slice(1), [1, N - 1]) })),
  ),
  bad('block: textLen 0', 'block', 'VALUE', block(blockArgs({ textLen: 0 }))),
  bad('block: textLen covering every token', 'block', 'VALUE', block(blockArgs({ textLen: N }))),
  bad('block: missing weights', 'block', 'VALUE', block(blockArgs({ weights: undefined }))),
  bad('block: numHeads 0', 'block', 'VALUE', block(blockArgs({ numHeads: 0 }))),
  bad('block: numHeads not dividing the width', 'block', 'SHAPE', block(blockArgs({ numHeads: 3 }))),
  bad('block: NaN in x', 'block', 'VALUE', block(blockArgs({ x: nanAt(BLOCK_X, 5) }))),
];
