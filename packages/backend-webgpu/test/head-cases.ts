import { readFileSync } from 'node:fs';
import { createCpuBackend } from '@pumer/backend-cpu';
import {
  type FloatTensor,
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
 * One case per task head for the WebGPU tests (SwiftShader is slow: a handful of runs): from ../shared/real,
 * Hugging Face NLVR2 on a pair of images padded together (two image passes in one graph, pixel mask
 * [1, 2, H, W]) and retrieval (rank_output), reducers off (against the reference logits) and on (against the
 * CPU reference's decisions); from ../shared/real/authors, the authors' VE checkpoint with its own schedule.
 * VQA is covered by the tiny-checkpoint parity.
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

export function headCases(): HeadCase[] {
  const hf = JSON.parse(readFileSync(real('cases.json'), 'utf8')).cases as {
    name: string;
    images: string[];
    input_ids: Tensor;
    attention_mask: Tensor;
    logits: Tensor;
  }[];
  const nlvr2 = hf.find((c) => c.name === 'nlvr2_2_4')!; // 384x576 and 384x384: the second image padded
  const retrieval = hf.find((c) => c.name === 'retrieval')!;
  const cases: HeadCase[] = [];
  for (const [dir, c, images, want] of [
    ['nlvr2', nlvr2, nlvr2.images, nlvr2.logits.data],
    ['retrieval', retrieval, [retrieval.images[3]!], [retrieval.logits.data[3]!]],
  ] as const) {
    const loaded = loadVilt(real(dir));
    const inputs = {
      inputIds: ids(c.input_ids),
      attentionMask: ids(c.attention_mask),
      ...imageInputs(
        loaded,
        images.map((f) => real(f)),
      ),
    };
    const base = { loaded, urls: hfUrls(dir), inputs };
    cases.push({ ...base, label: `hf ${dir} unreduced`, reduction: null, want });
    const pumer = namedSchedule('pumer', loaded.model.geometry.numLayers);
    cases.push({ ...base, label: `hf ${dir} pumer`, reduction: pumer, want: null });
  }
  const authors = JSON.parse(readFileSync(real('authors', 'cases.json'), 'utf8')).cases as {
    head: string;
    images: string[];
    inputs: { input_ids: Tensor; attention_mask: Tensor };
    on: { logits: Tensor };
  }[];
  const ve = authors.find((c) => c.head === 've')!;
  const tokenizer = real('authors', 'tokenizer.json');
  const loaded = loadVilt(real('authors', 've'), { tokenizer });
  cases.push({
    label: 'authors ve (its schedule)',
    loaded,
    urls: {
      id: 'page:real/authors/ve',
      config: '/real/authors/ve/config.json',
      weights: '/real/authors/ve/pytorch_model.bin',
      tokenizer: '/real/authors/tokenizer.json',
    },
    inputs: {
      inputIds: ids(ve.inputs.input_ids),
      attentionMask: ids(ve.inputs.attention_mask),
      ...imageInputs(loaded, [real('authors', 'images', ve.images[0]!)]),
    },
    reduction: loaded.reduction,
    want: ve.on.logits.data,
  });
  return cases;
}

/**
 * Compares a WebGPU run of `c` with the reference logits (if any) and the CPU reference (logits and every
 * pass's reduce decisions). Returns the largest |logit - reference| (or - cpu) and the failure, if any.
 */
export async function checkHeadCase(
  c: HeadCase,
  got: ViltOutputs,
  tolerance: number,
): Promise<{ maxAbs: number; reason: string | null }> {
  const want = await createCpuBackend().runVilt(c.loaded.model, c.inputs, c.reduction);
  const ref: FloatTensor = c.want ? floatTensor(Float32Array.from(c.want), want.logits.shape) : want.logits;
  if (got.logits.shape.join() !== want.logits.shape.join())
    return { maxAbs: Number.NaN, reason: `logits [${got.logits.shape}], cpu [${want.logits.shape}]` };
  const maxAbs = Math.max(maxAbsDiff(got.logits, ref), maxAbsDiff(got.logits, want.logits));
  if (!(maxAbs <= tolerance))
    return { maxAbs, reason: `max |logit diff| ${maxAbs.toExponential(2)} > ${tolerance}` };
  const passes = (o: ViltOutputs) => o.imagePasses ?? [o.layers];
  if (passes(got).length !== passes(want).length)
    return { maxAbs, reason: `${passes(got).length} image passes, cpu ${passes(want).length}` };
  for (const [i, layers] of passes(got).entries()) {
    const reason = compareTraces(layers, passes(want)[i]!);
    if (reason) return { maxAbs, reason: `pass ${i}: ${reason}` };
  }
  return { maxAbs, reason: null };
}
