import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type ModelGeometry, seededRandom, type ViltTask } from '@pumer/core';
import { CliError } from '../errors.js';

/**
 * A ViLT checkpoint with deterministic random weights, written in the Hugging Face layout so the benchmark
 * goes through the same loader (`loadVilt`) as a real model. Weights are meaningless; shapes are exact.
 */
export interface SyntheticGeometry {
  readonly name: string;
  readonly numLayers: number;
  readonly hiddenSize: number;
  readonly numHeads: number;
  readonly intermediateSize: number;
  /** Text window = max_position_embeddings. */
  readonly textTokens: number;
  /** The checkpoint's (square) training size; the height of the images fed. */
  readonly imageSize: number;
  /** Width of the images fed when they are not square (default imageSize): the position embeddings are resized. */
  readonly imageWidth?: number;
  /** The geometry whose checkpoint this one feeds other images to (same weights, no second copy on disk). */
  readonly checkpointOf?: string;
  readonly patchSize: number;
  readonly numLabels: number;
}

export const SYNTHETIC_GEOMETRIES: Record<string, SyntheticGeometry> = {
  'vilt-b32': {
    name: 'vilt-b32',
    numLayers: 12,
    hiddenSize: 768,
    numHeads: 12,
    intermediateSize: 3072,
    textTokens: 40,
    imageSize: 384,
    patchSize: 32,
    numLabels: 14,
  },
  // A 640x480 photo as ViLT's processor resizes it (shortest edge 384, multiple of 32): 12 x 16 patches + [CLS].
  'vilt-b32-photo': {
    name: 'vilt-b32-photo',
    numLayers: 12,
    hiddenSize: 768,
    numHeads: 12,
    intermediateSize: 3072,
    textTokens: 40,
    imageSize: 384,
    imageWidth: 512,
    checkpointOf: 'vilt-b32',
    patchSize: 32,
    numLabels: 14,
  },
  tiny: {
    name: 'tiny',
    numLayers: 6,
    hiddenSize: 64,
    numHeads: 4,
    intermediateSize: 256,
    textTokens: 16,
    imageSize: 64,
    patchSize: 8,
    numLabels: 14,
  },
};

/** Width of the images a geometry feeds (its imageSize unless they are not square). */
export function imageWidth(g: SyntheticGeometry): number {
  return g.imageWidth ?? g.imageSize;
}

/** Image tokens of a geometry: patches + image [CLS]. */
export function imageTokens(g: SyntheticGeometry): number {
  return (g.imageSize / g.patchSize) * (imageWidth(g) / g.patchSize) + 1;
}

/** What the scheduler (core's `schedule`) needs of a geometry. */
export function modelGeometry(g: SyntheticGeometry): ModelGeometry {
  return {
    numLayers: g.numLayers,
    hiddenSize: g.hiddenSize,
    numHeads: g.numHeads,
    intermediateSize: g.intermediateSize,
    textTokens: g.textTokens,
    imageTokens: imageTokens(g),
  };
}

/** The geometry whose checkpoint `g` runs on: itself, or the one it feeds other images to. */
export function checkpointGeometry(g: SyntheticGeometry): SyntheticGeometry {
  return g.checkpointOf ? SYNTHETIC_GEOMETRIES[g.checkpointOf]! : g;
}

interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

/** Images one example of the task's head takes (NLVR2: a pair, one pass each). */
export function taskImages(task: ViltTask): number {
  return task === 'nlvr2' ? 2 : 1;
}

/** The head's outputs: VE's three classes, NLVR2's two, retrieval's one score, the geometry's VQA answers. */
function taskLabels(g: SyntheticGeometry, task: ViltTask): string[] {
  if (task === 've') return ['contradiction', 'neutral', 'entailment'];
  if (task === 'nlvr2') return ['False', 'True'];
  return Array.from({ length: g.numLabels }, (_, i) => `label_${i}`);
}

/**
 * The Hugging Face ViLT parameter set of a geometry and task, filled from `rand` (std 0.02 like HF's
 * initializer; LayerNorms 1/0): VQA and VE a classifier over the pooled output, NLVR2 one over the two images'
 * pooled outputs (and a third modality row), retrieval rank_output.
 */
export function syntheticTensors(
  g: SyntheticGeometry,
  vocabSize: number,
  seed: number,
  task: ViltTask = 'vqa',
): Map<string, NamedTensor> {
  const rand = seededRandom(seed);
  const amp = 0.02 * Math.sqrt(3); // uniform in [-amp, amp] has std 0.02
  const random = (shape: number[]): NamedTensor => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (2 * rand() - 1) * amp;
    return { shape, data };
  };
  const fill = (shape: number[], v: number): NamedTensor => ({
    shape,
    data: new Float32Array(shape[0]!).fill(v),
  });
  const d = g.hiddenSize;
  const grid = g.imageSize / g.patchSize;
  const t = new Map<string, NamedTensor>();
  const e = 'vilt.embeddings';
  t.set(`${e}.text_embeddings.word_embeddings.weight`, random([vocabSize, d]));
  t.set(`${e}.text_embeddings.position_embeddings.weight`, random([g.textTokens, d]));
  t.set(`${e}.text_embeddings.token_type_embeddings.weight`, random([2, d]));
  t.set(`${e}.text_embeddings.LayerNorm.weight`, fill([d], 1));
  t.set(`${e}.text_embeddings.LayerNorm.bias`, fill([d], 0));
  t.set(`${e}.cls_token`, random([1, 1, d]));
  t.set(`${e}.position_embeddings`, random([1, grid * grid + 1, d]));
  t.set(`${e}.patch_embeddings.projection.weight`, random([d, 3, g.patchSize, g.patchSize]));
  t.set(`${e}.patch_embeddings.projection.bias`, random([d]));
  t.set(`${e}.token_type_embeddings.weight`, random([1 + taskImages(task), d]));
  for (let l = 0; l < g.numLayers; l++) {
    const p = `vilt.encoder.layer.${l}`;
    t.set(`${p}.layernorm_before.weight`, fill([d], 1));
    t.set(`${p}.layernorm_before.bias`, fill([d], 0));
    for (const qkv of ['query', 'key', 'value']) {
      t.set(`${p}.attention.attention.${qkv}.weight`, random([d, d]));
      t.set(`${p}.attention.attention.${qkv}.bias`, random([d]));
    }
    t.set(`${p}.attention.output.dense.weight`, random([d, d]));
    t.set(`${p}.attention.output.dense.bias`, random([d]));
    t.set(`${p}.layernorm_after.weight`, fill([d], 1));
    t.set(`${p}.layernorm_after.bias`, fill([d], 0));
    t.set(`${p}.intermediate.dense.weight`, random([g.intermediateSize, d]));
    t.set(`${p}.intermediate.dense.bias`, random([g.intermediateSize]));
    t.set(`${p}.output.dense.weight`, random([d, g.intermediateSize]));
    t.set(`${p}.output.dense.bias`, random([d]));
  }
  t.set('vilt.layernorm.weight', fill([d], 1));
  t.set('vilt.layernorm.bias', fill([d], 0));
  t.set('vilt.pooler.dense.weight', random([d, d]));
  t.set('vilt.pooler.dense.bias', random([d]));
  if (task === 'retrieval') {
    t.set('rank_output.weight', random([1, d]));
    t.set('rank_output.bias', random([1]));
    return t;
  }
  // Hugging Face's heads: Linear(D, 2D) for one image; Linear(2D, 2D) over NLVR2's concatenated pair.
  const inDim = taskImages(task) * d;
  const width = task === 'nlvr2' ? inDim : 2 * d;
  const labels = taskLabels(g, task).length;
  t.set('classifier.0.weight', random([width, inDim]));
  t.set('classifier.0.bias', random([width]));
  t.set('classifier.1.weight', fill([width], 1));
  t.set('classifier.1.bias', fill([width], 0));
  t.set('classifier.3.weight', random([labels, width]));
  t.set('classifier.3.bias', random([labels]));
  return t;
}

/** The Hugging Face class of each task's checkpoint (VE: a VQA-shaped head marked `pumer_task`). */
const TASK_ARCHITECTURES: Readonly<Record<ViltTask, string>> = {
  vqa: 'ViltForQuestionAnswering',
  ve: 'ViltForQuestionAnswering',
  nlvr2: 'ViltForImagesAndTextClassification',
  retrieval: 'ViltForImageAndTextRetrieval',
};

/** config.json (ViltConfig fields) for a geometry and task. */
export function syntheticConfig(
  g: SyntheticGeometry,
  vocabSize: number,
  task: ViltTask = 'vqa',
): Record<string, unknown> {
  const id2label: Record<string, string> = {};
  const label2id: Record<string, number> = {};
  taskLabels(g, task).forEach((label, i) => {
    id2label[String(i)] = label;
    label2id[label] = i;
  });
  return {
    architectures: [TASK_ARCHITECTURES[task]],
    ...(task === 've' ? { pumer_task: 've' } : {}),
    model_type: 'vilt',
    vocab_size: vocabSize,
    type_vocab_size: 2,
    modality_type_vocab_size: 1 + taskImages(task),
    max_position_embeddings: g.textTokens,
    hidden_size: g.hiddenSize,
    num_hidden_layers: g.numLayers,
    num_attention_heads: g.numHeads,
    intermediate_size: g.intermediateSize,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0,
    attention_probs_dropout_prob: 0,
    initializer_range: 0.02,
    layer_norm_eps: 1e-12,
    image_size: g.imageSize,
    patch_size: g.patchSize,
    num_channels: 3,
    qkv_bias: true,
    max_image_length: -1,
    num_images: task === 'nlvr2' ? 2 : -1,
    pad_token_id: 0,
    ...(task === 'retrieval' ? {} : { id2label, label2id }),
  };
}

export function syntheticPreprocessorConfig(g: SyntheticGeometry): Record<string, unknown> {
  return {
    image_processor_type: 'ViltImageProcessor',
    do_resize: true,
    size: { shortest_edge: g.imageSize },
    size_divisor: g.patchSize,
    resample: 3,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [0.5, 0.5, 0.5],
    image_std: [0.5, 0.5, 0.5],
    do_pad: true,
  };
}

/**
 * A path as a report records it: under the home folder written `~/…`, so a report committed to the repository
 * names no machine's home.
 */
export function reportPath(p: string): string {
  const home = os.homedir();
  return home && (p === home || p.startsWith(home + path.sep)) ? `~${p.slice(home.length)}` : p;
}

/** ~/.cache/pumer, or $PUMER_CACHE. */
export function cacheDir(env: Readonly<Record<string, string | undefined>>): string {
  return env['PUMER_CACHE'] || path.join(os.homedir(), '.cache', 'pumer');
}

const STAMP = 'pumer-synthetic.json';
const FORMAT = 'pumer-synthetic/1';

export interface SyntheticCheckpointOptions {
  readonly geometry: SyntheticGeometry;
  /** The head (default vqa). */
  readonly task?: ViltTask;
  readonly seed: number;
  readonly cache: string;
  /** A real tokenizer.json to copy (the embedded model's); its padding/truncation are set to the text window. */
  readonly tokenizerJsonPath: string;
  readonly writeSafetensors: (
    tensors: Map<string, NamedTensor>,
    metadata: Record<string, string>,
  ) => Uint8Array;
}

/**
 * Writes (once; reused while the stamp matches) the synthetic checkpoint for a geometry and seed and returns
 * its directory. Files are written under a temporary name and renamed, and the stamp goes last, so an
 * interrupted write is never mistaken for a complete checkpoint.
 */
export function ensureSyntheticCheckpoint(opts: SyntheticCheckpointOptions): {
  dir: string;
  created: boolean;
} {
  const g = checkpointGeometry(opts.geometry);
  const task = opts.task ?? 'vqa';
  // VQA keeps the name and stamp it always had, so existing caches stay valid.
  const dir = path.join(opts.cache, `bench-${g.name}${task === 'vqa' ? '' : `-${task}`}-seed${opts.seed}`);
  const stampPath = path.join(dir, STAMP);
  const want = { format: FORMAT, geometry: g, seed: opts.seed, ...(task === 'vqa' ? {} : { task }) };
  if (existsSync(stampPath)) {
    try {
      if (JSON.stringify(JSON.parse(readFileSync(stampPath, 'utf8'))) === JSON.stringify(want))
        return { dir, created: false };
    } catch {
      // A damaged stamp: rewrite the checkpoint below.
    }
  }
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new CliError(`cannot create the benchmark cache directory ${dir}: ${(err as Error).message}`);
  }
  let tokenizer: Record<string, unknown>;
  try {
    tokenizer = JSON.parse(readFileSync(opts.tokenizerJsonPath, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new CliError(`cannot read tokenizer ${opts.tokenizerJsonPath}: ${(err as Error).message}`);
  }
  const model = tokenizer['model'] as { vocab?: Record<string, number> } | undefined;
  const vocabSize = Object.keys(model?.vocab ?? {}).length;
  if (vocabSize === 0) throw new CliError(`tokenizer ${opts.tokenizerJsonPath} has no vocabulary`);
  tokenizer['padding'] = { ...(tokenizer['padding'] as object), strategy: { Fixed: g.textTokens } };
  tokenizer['truncation'] = { ...(tokenizer['truncation'] as object), max_length: g.textTokens };
  const write = (name: string, bytes: string | Uint8Array) => {
    const tmp = path.join(dir, `${name}.tmp`);
    writeFileSync(tmp, bytes);
    renameSync(tmp, path.join(dir, name));
  };
  const tensors = syntheticTensors(g, vocabSize, opts.seed, task);
  write(
    'model.safetensors',
    opts.writeSafetensors(tensors, { format: 'pt', generator: FORMAT, seed: String(opts.seed) }),
  );
  write('config.json', `${JSON.stringify(syntheticConfig(g, vocabSize, task), null, 2)}\n`);
  write('preprocessor_config.json', `${JSON.stringify(syntheticPreprocessorConfig(g), null, 2)}\n`);
  write('tokenizer.json', JSON.stringify(tokenizer));
  write(STAMP, `${JSON.stringify(want)}\n`);
  return { dir, created: true };
}
