import { readFileSync } from 'node:fs';
import { createCpuBackend } from '@pumer/backend-cpu';
import {
  type Backend,
  floatTensor,
  intTensor,
  type LayerTrace,
  namedSchedule,
  type ReductionConfig,
  type ViltInputs,
  type ViltOutputs,
} from '@pumer/core';
import { hasSharedData, sharedPath } from '@pumer/testkit/node';
import { decodeImageFile, type LoadedVilt, loadVilt, padImages, prepareImage } from '@pumer/vilt/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeBackend } from './index.js';

/**
 * Every head on onnxruntime-node against the CPU reference and the reference implementations: NLVR2 (two
 * image passes in one graph, images padded together) and retrieval (rank_output) from ../shared/real
 * (Hugging Face), and the paper authors' VE, NLVR2 and retrieval checkpoints from ../shared/real/authors with
 * reducers on and off. Logits within 1e-4 of the reference; every reduce decision of every pass as the CPU
 * reference decides it.
 */

interface Tensor {
  readonly shape: number[];
  readonly data: number[];
}
interface HfCase {
  readonly name: string;
  readonly model: string;
  readonly images: string[];
  readonly input_ids: Tensor;
  readonly attention_mask: Tensor;
  readonly logits: Tensor;
}
type Tokens = [number, number][];
interface AuthorsRun {
  readonly logits: Tensor;
  readonly tokens_per_layer: Tokens | { image1_pass: Tokens; image2_pass: Tokens };
}
interface AuthorsCase {
  readonly head: string;
  readonly name: string;
  readonly images: string[];
  readonly inputs: { readonly input_ids: Tensor; readonly attention_mask: Tensor };
  readonly on: AuthorsRun;
  readonly off: AuthorsRun;
}

const TOLERANCE = 1e-4;
// Real checkpoints on two backends, several runs per case.
const TIMEOUT = 120_000;
const present = hasSharedData('real', 'cases.json') && hasSharedData('real', 'authors', 'cases.json');
const real = (...p: string[]) => sharedPath('real', ...p);
const hfCases: HfCase[] = present
  ? JSON.parse(readFileSync(real('cases.json'), 'utf8')).cases.filter(
      (c: HfCase) => c.name.startsWith('nlvr2_') || c.name === 'retrieval',
    )
  : [];
const authorsCases: AuthorsCase[] = present
  ? JSON.parse(readFileSync(real('authors', 'cases.json'), 'utf8')).cases.filter((c: AuthorsCase) =>
      ['ve', 'nlvr2', 'irtr'].includes(c.head),
    )
  : [];

function maxAbsDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let m = 0;
  for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(got[i]! - want[i]!));
  return m;
}

/** Every reduce decision of every image pass: kept image tokens and where image and text tokens went. */
const decisions = (out: ViltOutputs) =>
  (out.imagePasses ?? [out.layers]).map((layers: readonly LayerTrace[]) =>
    layers.map((l) =>
      [l.keepIdx?.data, l.imageDst?.data, l.textDst?.data, l.tokenDst?.data].map((t) =>
        t ? Array.from(t) : null,
      ),
    ),
  );
const tokens = (out: ViltOutputs) =>
  (out.imagePasses ?? [out.layers]).map((layers) => layers.map((l) => [l.textOut, l.imageOut]));

/** One example's images as a model input: [1, C, H, W], or for two images [1, 2, C, H, W] padded together. */
function imageInputs(
  loaded: LoadedVilt,
  files: readonly string[],
): Pick<ViltInputs, 'pixelValues' | 'pixelMask'> {
  const images = files.map((f) => prepareImage(decodeImageFile(f), loaded.preprocessor));
  const { pixelValues, pixelMask } = padImages(images);
  // padImages' [n, C, H, W] is one example's [1, n, C, H, W] (the same layout).
  const [n, c, h, w] = pixelValues.shape as [number, number, number, number];
  if (n === 1) return { pixelValues, pixelMask };
  return {
    pixelValues: floatTensor(pixelValues.data, [1, n, c, h, w]),
    pixelMask: intTensor(pixelMask.data, [1, n, h, w]),
  };
}

const text = (ids: Tensor, mask: Tensor) => ({
  inputIds: intTensor(ids.data, ids.shape),
  attentionMask: intTensor(mask.data, mask.shape),
});

/** Largest |logit - reference| per head and backend, printed at the end for the record. */
const worst = new Map<string, number>();
const note = (key: string, err: number) => worst.set(key, Math.max(worst.get(key) ?? 0, err));

describe.skipIf(!present)('every head on node, cpu and the reference', () => {
  let node: Backend;
  const cpu = createCpuBackend();
  beforeAll(async () => {
    node = await createNodeBackend({ provider: 'cpu' });
  });
  afterAll(async () => {
    await node?.dispose();
    console.log(
      `max |logit - reference|: ${[...worst].map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}`,
    );
  });

  /** Runs `inputs` on node and cpu: the node logits near `want` (if given) and cpu's, the same decisions. */
  async function both(
    key: string,
    loaded: LoadedVilt,
    inputs: ViltInputs,
    reduction: ReductionConfig | null,
    want: readonly number[] | null,
  ) {
    const onNode = await node.runVilt(loaded.model, inputs, reduction);
    const onCpu = await cpu.runVilt(loaded.model, inputs, reduction);
    if (want) {
      note(`${key} node`, maxAbsDiff(onNode.logits.data, want));
      note(`${key} cpu`, maxAbsDiff(onCpu.logits.data, want));
      expect(maxAbsDiff(onNode.logits.data, want), key).toBeLessThan(TOLERANCE);
      expect(maxAbsDiff(onCpu.logits.data, want), key).toBeLessThan(TOLERANCE);
    }
    expect(maxAbsDiff(onNode.logits.data, onCpu.logits.data), key).toBeLessThan(TOLERANCE);
    expect(onNode.imagePasses?.length, key).toBe(onCpu.imagePasses?.length);
    expect(decisions(onNode), key).toEqual(decisions(onCpu));
    return onNode;
  }

  it(
    'Hugging Face NLVR2 (two padded images per example, one graph) and retrieval: every case',
    async () => {
      expect(hfCases.map((c) => c.name)).toEqual(['nlvr2_0_1', 'nlvr2_2_4', 'nlvr2_5_7', 'retrieval']);
      for (const c of hfCases) {
        const loaded = loadVilt(real(c.model));
        expect(loaded.model.task).toBe(c.model);
        const reduced = namedSchedule('pumer', loaded.model.geometry.numLayers);
        const ids = text(c.input_ids, c.attention_mask);
        if (c.model === 'nlvr2') {
          const inputs = {
            ...ids,
            ...imageInputs(
              loaded,
              c.images.map((f) => real(f)),
            ),
          };
          const out = await both('hf nlvr2', loaded, inputs, null, c.logits.data);
          expect(out.logits.shape).toEqual([1, 2]);
          expect(out.imagePasses).toHaveLength(2);
          // The reducers on each pass as cpu reduces it (no reference logits for this schedule).
          await both('hf nlvr2 reduced', loaded, inputs, reduced, null);
        } else {
          // One call per image, each processed alone (as the reference did).
          for (const [i, f] of c.images.entries()) {
            const inputs = { ...ids, ...imageInputs(loaded, [real(f)]) };
            const out = await both('hf retrieval', loaded, inputs, null, [c.logits.data[i]!]);
            expect(out.logits.shape).toEqual([1, 1]);
            await both('hf retrieval reduced', loaded, inputs, reduced, null);
          }
        }
      }
    },
    TIMEOUT,
  );

  it.each([
    ['ve', 've-ft', 6],
    ['nlvr2', 'nlvr2-ft', 5],
    ['irtr', null, 8],
  ] as const)(
    "the authors' %s checkpoint: every case, reducers on and off (and the -ft configuration), as cpu decides",
    async (head, ft, count) => {
      const options = { tokenizer: real('authors', 'tokenizer.json') };
      const loaded = loadVilt(real('authors', head), options);
      const off = ft === null ? null : loadVilt(real('authors', ft), options);
      expect(loaded.reduction).not.toBeNull();
      const cases = authorsCases.filter((x) => x.head === head);
      expect(cases.length).toBe(count);
      for (const c of cases) {
        const inputs = {
          ...text(c.inputs.input_ids, c.inputs.attention_mask),
          ...imageInputs(
            loaded,
            c.images.map((f) => real('authors', 'images', f)),
          ),
        };
        const runs = [
          [loaded, loaded.reduction, c.on],
          [loaded, null, c.off],
          ...(off ? [[off, off.reduction, c.off] as const] : []),
        ] as const;
        for (const [model, reduction, ref] of runs) {
          const out = await both(`authors ${head}`, model, inputs, reduction, ref.logits.data);
          const t = ref.tokens_per_layer;
          expect(tokens(out), c.name).toEqual(Array.isArray(t) ? [t] : [t.image1_pass, t.image2_pass]);
        }
      }
    },
    TIMEOUT,
  );
});
