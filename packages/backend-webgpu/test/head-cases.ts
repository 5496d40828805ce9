import { readFileSync } from 'node:fs';
import { createCpuBackend } from '@pumer/backend-cpu';
import {
  floatTensor,
  intTensor,
  namedSchedule,
  type ReductionConfig,
  type ViltInputs,
  type ViltOutputs,
} from '@pumer/core';
import { compareTraces, hasSharedData, maxAbsDiff, sharedPath } from '@pumer/testkit/node';
import { decodeImageFile, type LoadedVilt, loadVilt, padImages, prepareImage } from '@pumer/vilt/node';

/**
 * Task-head cases for the WebGPU tests. `headCases()` is one case per head (SwiftShader is slow: a handful of
 * runs): from ../shared/real, Hugging Face NLVR2 on a pair of images padded together (two image passes in one
 * graph, pixel mask [1, 2, H, W]) and retrieval (rank_output), reducers off (against the reference logits) and
 * on (against the CPU reference's decisions); from ../shared/real/authors, the authors' VE checkpoint with its
 * own schedule. `allHeadCases()` is every NLVR2 / retrieval / VE / IRTR case of both folders, reducers on and
 * off, plus the authors' `-ft` checkpoints (the long check, all-heads.test.ts). VQA is covered by the
 * tiny-checkpoint parity.
 */

export const HEAD_CASES_PRESENT =
  hasSharedData('real', 'cases.json') && hasSharedData('real', 'authors', 'cases.json');

/** Where the page fetches a checkpoint's files (the test server mounts ../shared/real at /real). */
export interface CheckpointUrls {
  readonly id: string;
  readonly config: string;
  readonly weights: string;
  readonly tokenizer: string;
  readonly preprocessor?: string;
}

export interface HeadCase {
  readonly label: string;
  readonly loaded: LoadedVilt;
  readonly urls: CheckpointUrls;
  readonly inputs: ViltInputs;
  readonly reduction: ReductionConfig | null;
  /** The reference implementation's logits (reducers off, or the authors' own schedule); null: cpu's only. */
  readonly want: readonly number[] | null;
}

interface Tensor {
  readonly shape: number[];
  readonly data: number[];
}

const real = (...p: string[]) => sharedPath('real', ...p);
const ids = (t: Tensor) => intTensor(t.data, t.shape);

/** One example's images: [1, C, H, W], or two padded together as [1, 2, C, H, W] with their mask. */
function imageInputs(
  loaded: LoadedVilt,
  files: readonly string[],
): Pick<ViltInputs, 'pixelValues' | 'pixelMask'> {
  const { pixelValues, pixelMask } = padImages(
    files.map((f) => prepareImage(decodeImageFile(f), loaded.preprocessor)),
  );
  const [n, c, h, w] = pixelValues.shape as [number, number, number, number];
  if (n === 1) return { pixelValues, pixelMask };
  return {
    pixelValues: floatTensor(pixelValues.data, [1, n, c, h, w]),
    pixelMask: intTensor(pixelMask.data, [1, n, h, w]),
  };
}

const hfUrls = (dir: string): CheckpointUrls => ({
  id: `page:real/${dir}`,
  config: `/real/${dir}/config.json`,
  weights: `/real/${dir}/model.safetensors`,
  tokenizer: `/real/${dir}/tokenizer.json`,
  preprocessor: `/real/${dir}/preprocessor_config.json`,
});

const authorsUrls = (dir: string): CheckpointUrls => ({
  id: `page:real/authors/${dir}`,
  config: `/real/authors/${dir}/config.json`,
  weights: `/real/authors/${dir}/pytorch_model.bin`,
  tokenizer: '/real/authors/tokenizer.json',
});

interface HfExample {
  readonly name: string;
  readonly images: string[];
  readonly input_ids: Tensor;
  readonly attention_mask: Tensor;
  readonly logits: Tensor;
}

interface AuthorsExample {
  readonly head: string;
  readonly name: string;
  readonly model_dir: string;
  readonly images: string[];
  readonly inputs: { input_ids: Tensor; attention_mask: Tensor };
  readonly on: { logits: Tensor };
  readonly off: { logits: Tensor };
}

/** The heads of ../shared/real/authors these tests cover (VQA is the tiny-checkpoint parity's). */
const AUTHORS_HEADS = ['ve', 'nlvr2', 'irtr'];

/** Loads each checkpoint folder once, however many cases use it. */
function checkpointCache(): (dir: string) => LoadedVilt {
  const loaded = new Map<string, LoadedVilt>();
  const tokenizer = real('authors', 'tokenizer.json');
  return (dir) => {
    let m = loaded.get(dir);
    if (!m) {
      m = dir.startsWith('authors/') ? loadVilt(real(...dir.split('/')), { tokenizer }) : loadVilt(real(dir));
      loaded.set(dir, m);
    }
    return m;
  };
}

const readHf = () => JSON.parse(readFileSync(real('cases.json'), 'utf8')).cases as HfExample[];
const readAuthors = () =>
  JSON.parse(readFileSync(real('authors', 'cases.json'), 'utf8')).cases as AuthorsExample[];

/**
 * A Hugging Face example on `images` (a subset of its own, for retrieval's one call per image) with reducers
 * off, against the reference `want`, and on with the `pumer` schedule (the hub checkpoints carry none),
 * against cpu.
 */
function hfCases(
  loaded: LoadedVilt,
  dir: string,
  label: string,
  c: HfExample,
  images: readonly string[],
  want: readonly number[],
): HeadCase[] {
  const inputs = {
    inputIds: ids(c.input_ids),
    attentionMask: ids(c.attention_mask),
    ...imageInputs(
      loaded,
      images.map((f) => real(f)),
    ),
  };
  const base = { loaded, urls: hfUrls(dir), inputs };
  const pumer = namedSchedule('pumer', loaded.model.geometry.numLayers);
  return [
    { ...base, label: `hf ${label} unreduced`, reduction: null, want },
    { ...base, label: `hf ${label} pumer`, reduction: pumer, want: null },
  ];
}

/**
 * An authors' example on checkpoint folder `dir` with the checkpoint's own schedule (`on`: its reference
 * logits are `c.on` when it has one, `c.off` when it has none, as the `-ft` folders) or reducers off.
 */
function authorsCase(loaded: LoadedVilt, dir: string, c: AuthorsExample, on: boolean): HeadCase {
  const reduction = on ? loaded.reduction : null;
  return {
    label: `authors ${dir} ${c.name} ${reduction ? '(its schedule)' : on ? '(its schedule: none)' : 'off'}`,
    loaded,
    urls: authorsUrls(dir),
    inputs: {
      inputIds: ids(c.inputs.input_ids),
      attentionMask: ids(c.inputs.attention_mask),
      ...imageInputs(
        loaded,
        c.images.map((f) => real('authors', 'images', f)),
      ),
    },
    reduction,
    want: (reduction ? c.on : c.off).logits.data,
  };
}

export function headCases(): HeadCase[] {
  const load = checkpointCache();
  const hf = readHf();
  const nlvr2 = hf.find((c) => c.name === 'nlvr2_2_4')!; // 384x576 and 384x384: the second image padded
  const retrieval = hf.find((c) => c.name === 'retrieval')!;
  const ve = readAuthors().find((c) => c.head === 've')!;
  return [
    ...hfCases(load('nlvr2'), 'nlvr2', 'nlvr2', nlvr2, nlvr2.images, nlvr2.logits.data),
    ...hfCases(
      load('retrieval'),
      'retrieval',
      'retrieval',
      retrieval,
      [retrieval.images[3]!],
      [retrieval.logits.data[3]!],
    ),
    authorsCase(load('authors/ve'), 've', ve, true),
  ];
}

/**
 * Every NLVR2 and retrieval case of ../shared/real (retrieval: one call per image, as its logits were made)
 * and every VE / NLVR2 / IRTR case of ../shared/real/authors, reducers on and off; each VE and NLVR2 case
 * also on the `-ft` checkpoint (same weights, no schedule, so its own schedule is off).
 */
export function allHeadCases(): HeadCase[] {
  const load = checkpointCache();
  const cases: HeadCase[] = [];
  for (const c of readHf()) {
    if (c.name.startsWith('nlvr2_'))
      cases.push(...hfCases(load('nlvr2'), 'nlvr2', c.name, c, c.images, c.logits.data));
    if (c.name !== 'retrieval') continue;
    for (const [i, image] of c.images.entries())
      cases.push(
        ...hfCases(load('retrieval'), 'retrieval', `retrieval image ${i}`, c, [image], [c.logits.data[i]!]),
      );
  }
  for (const c of readAuthors()) {
    if (!AUTHORS_HEADS.includes(c.head)) continue;
    const loaded = load(`authors/${c.model_dir}`);
    cases.push(authorsCase(loaded, c.model_dir, c, true), authorsCase(loaded, c.model_dir, c, false));
    const ft = `${c.model_dir}-ft`;
    if (hasSharedData('real', 'authors', ft, 'config.json'))
      cases.push(authorsCase(load(`authors/${ft}`), ft, c, true));
  }
  return cases;
}

/** How a WebGPU run of a case compares with the reference logits and the CPU reference. */
export interface HeadCaseCheck {
  /** The larger of the two below. */
  readonly maxAbs: number;
  /** max |logit - reference logit|; NaN when the case has none (cpu's only) or the shapes differ. */
  readonly vsReference: number;
  /** max |logit - cpu logit|; NaN when the shapes differ. */
  readonly vsCpu: number;
  /** The first reduce decision (per image pass) that differs from cpu's, or null. */
  readonly decisions: string | null;
  /** Why the case fails (logits beyond `tolerance` or a different decision), or null. */
  readonly reason: string | null;
}

/**
 * Compares a WebGPU run of `c` with the reference logits (if any) and the CPU reference (logits and every
 * pass's reduce decisions).
 */
export async function checkHeadCase(
  c: HeadCase,
  got: ViltOutputs,
  tolerance: number,
): Promise<HeadCaseCheck> {
  const want = await createCpuBackend().runVilt(c.loaded.model, c.inputs, c.reduction);
  if (got.logits.shape.join() !== want.logits.shape.join()) {
    const reason = `logits [${got.logits.shape}], cpu [${want.logits.shape}]`;
    return { maxAbs: Number.NaN, vsReference: Number.NaN, vsCpu: Number.NaN, decisions: reason, reason };
  }
  const vsCpu = maxAbsDiff(got.logits, want.logits);
  const vsReference = c.want
    ? maxAbsDiff(got.logits, floatTensor(Float32Array.from(c.want), want.logits.shape))
    : Number.NaN;
  const maxAbs = c.want ? Math.max(vsReference, vsCpu) : vsCpu;
  const decisions = compareDecisions(got, want);
  const reason = !(maxAbs <= tolerance)
    ? `max |logit diff| ${maxAbs.toExponential(2)} > ${tolerance}`
    : decisions;
  return { maxAbs, vsReference, vsCpu, decisions, reason };
}

function compareDecisions(got: ViltOutputs, want: ViltOutputs): string | null {
  const passes = (o: ViltOutputs) => o.imagePasses ?? [o.layers];
  if (passes(got).length !== passes(want).length)
    return `${passes(got).length} image passes, cpu ${passes(want).length}`;
  for (const [i, layers] of passes(got).entries()) {
    const reason = compareTraces(layers, passes(want)[i]!);
    if (reason) return `pass ${i}: ${reason}`;
  }
  return null;
}
