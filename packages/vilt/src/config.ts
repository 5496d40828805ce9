import {
  PumerError,
  type ReductionConfig,
  reductionConfigFromReference,
  type ViltGeometry,
  type ViltTask,
  validateReductionConfig,
} from '@pumer/core';
import { hfTask, TASK_LABELS } from './heads.js';
import { describeValue } from './json-value.js';

/** Where a checkpoint's parameter names and config fields come from (layouts/detect.ts tells them apart). */
export type CheckpointLayout = 'hf' | 'authors';

/** The head class ViLT VQA checkpoints name in `architectures` (the same name in both layouts). */
export const VQA_ARCHITECTURE = 'ViltForQuestionAnswering';

/**
 * A ViLT checkpoint's config.json, typed and layout-neutral: the geometry the backends need, the answer
 * labels in id order, and the PuMer schedule the checkpoint carries (null when it has none). Built from a
 * Hugging Face config.json here, and from the PuMer authors' config.json by layouts/authors.ts.
 */
export interface ViltConfig {
  readonly layout: CheckpointLayout;
  /** The model class config.json names (`architectures[0]`). */
  readonly architecture: string;
  /** The task its head answers (from the class; heads.ts). */
  readonly task: ViltTask;
  /** `geometry.maxTextLength` is the text window the tokenizer pads to and the reducers count over. */
  readonly geometry: ViltGeometry;
  readonly labels: readonly string[];
  /** Rows of the text position table stored (max_position_embeddings; the authors' max_text_len). */
  readonly textPositionRows: number;
  /** Rows of the text token-type table (type_vocab_size); ViLT's text uses row 0. */
  readonly typeVocabSize: number;
  /** Rows of the modality table (modality_type_vocab_size); text is row 0, image row 1 (NLVR2's second: 2). */
  readonly modalityTypeVocabSize: number;
  /** Whether the attention query/key/value projections carry biases (qkv_bias). */
  readonly qkvBias: boolean;
  readonly reduction: ReductionConfig | null;
}

/**
 * transformers' ViltConfig defaults (configuration_vilt.py): `save_pretrained` writes only the values that
 * differ from them, so a hub config.json may leave any of these out.
 */
export const HF_VILT_DEFAULTS = Object.freeze({
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  layer_norm_eps: 1e-12,
  vocab_size: 30522,
  max_position_embeddings: 40,
  image_size: 384,
  patch_size: 32,
  num_channels: 3,
  type_vocab_size: 2,
  modality_type_vocab_size: 2,
  qkv_bias: true,
  hidden_act: 'gelu',
});

/**
 * The `hidden_act` names transformers maps to the exact (erf) GELU (activations.py ACT2CLS: `gelu` is
 * GELUActivation, `gelu_python` the same formula in Python). Every backend computes that GELU; the other names
 * are approximations (`gelu_new`, `gelu_fast`, `gelu_pytorch_tanh`: tanh; `quick_gelu`: sigmoid), a clipped
 * GELU (`gelu_10`) or other functions, which would run silently as the wrong MLP.
 */
export const EXACT_GELU_ACTIVATIONS: readonly string[] = ['gelu', 'gelu_python'];

/** Checks `hidden_act` (the encoder MLP's activation; absent = transformers' default `gelu`). */
function checkHiddenAct(c: Record<string, unknown>, source: string): void {
  const act = c['hidden_act'] === undefined ? HF_VILT_DEFAULTS.hidden_act : c['hidden_act'];
  if (typeof act !== 'string' || !EXACT_GELU_ACTIVATIONS.includes(act)) {
    throw fieldError(
      source,
      'hidden_act',
      `must be ${EXACT_GELU_ACTIVATIONS.map((a) => `"${a}"`).join(' or ')} (the exact erf GELU every backend computes), got ${describeValue(act)}`,
    );
  }
}

export function fieldError(source: string, field: string, message: string): PumerError {
  return new PumerError('CONFIG', `${source}: field "${field}" ${message}`);
}

export function requirePositiveInt(json: Record<string, unknown>, field: string, source: string): number {
  const v = json[field];
  if (v === undefined) throw fieldError(source, field, 'is missing (required)');
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw fieldError(source, field, `must be a positive integer, got ${describeValue(v)}`);
  }
  return v;
}

export function optionalPositiveInt(
  json: Record<string, unknown>,
  field: string,
  source: string,
  fallback: number,
): number {
  return json[field] === undefined ? fallback : requirePositiveInt(json, field, source);
}

function parseLabels(json: Record<string, unknown>, source: string): string[] {
  const raw = json['id2label'];
  if (raw === undefined)
    throw fieldError(source, 'id2label', 'is missing (required: the answer of each classifier output)');
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw fieldError(source, 'id2label', 'must be an object mapping "0", "1", ... to answer strings');
  }
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length === 0) throw fieldError(source, 'id2label', 'is empty');
  const labels: string[] = new Array(entries.length);
  for (const [key, label] of entries) {
    const id = Number(key);
    if (!Number.isInteger(id) || id < 0 || id >= entries.length || String(id) !== key) {
      throw fieldError(source, 'id2label', `keys must be the ids 0..${entries.length - 1}, got "${key}"`);
    }
    if (typeof label !== 'string')
      throw fieldError(source, `id2label.${key}`, `must be a string, got ${describeValue(label)}`);
    labels[id] = label;
  }
  return labels;
}

/** The class config.json names in `architectures` (absent: `fallback`). */
export function configArchitecture(c: Record<string, unknown>, source: string, fallback: string): string {
  const a = c['architectures'];
  if (a === undefined || a === null) return fallback;
  if (!Array.isArray(a) || a.length === 0 || typeof a[0] !== 'string')
    throw fieldError(source, 'architectures', `must be a list of class names, got ${describeValue(a)}`);
  return a[0];
}

/**
 * Parses and validates a Hugging Face ViLT config.json. Fields save_pretrained leaves out take transformers'
 * defaults (HF_VILT_DEFAULTS). `id2label` is required of a VQA head (it names the answers). `source` names the
 * file in error messages.
 */
export function parseViltConfig(json: unknown, source = 'config.json'): ViltConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new PumerError('CONFIG', `${source}: expected a JSON object`);
  }
  const c = json as Record<string, unknown>;
  const D = HF_VILT_DEFAULTS;
  const int = (field: keyof typeof D & string) => optionalPositiveInt(c, field, source, D[field] as number);
  const hiddenSize = int('hidden_size');
  const numHeads = int('num_attention_heads');
  if (hiddenSize % numHeads !== 0) {
    throw fieldError(source, 'num_attention_heads', `(${numHeads}) must divide hidden_size (${hiddenSize})`);
  }
  const imageSize = int('image_size');
  const patchSize = int('patch_size');
  if (imageSize % patchSize !== 0)
    throw fieldError(source, 'patch_size', `(${patchSize}) must divide image_size (${imageSize})`);
  const eps = c['layer_norm_eps'] ?? D.layer_norm_eps;
  if (typeof eps !== 'number' || !(eps > 0) || !Number.isFinite(eps)) {
    throw fieldError(source, 'layer_norm_eps', `must be a positive number, got ${describeValue(eps)}`);
  }
  checkHiddenAct(c, source);
  const architecture = configArchitecture(c, source, VQA_ARCHITECTURE);
  const task = hfTask(c, architecture, source);
  const labels = hfLabels(c, task, architecture, source);
  const geometry: ViltGeometry = {
    hiddenSize,
    numLayers: int('num_hidden_layers'),
    numHeads,
    intermediateSize: int('intermediate_size'),
    layerNormEps: eps,
    vocabSize: int('vocab_size'),
    maxTextLength: int('max_position_embeddings'),
    imageSize,
    patchSize,
    numChannels: int('num_channels'),
    numLabels: labels.length,
    numImages: task === 'nlvr2' ? nlvr2NumImages(c, source) : 1,
  };
  const qkvBias = c['qkv_bias'] ?? D.qkv_bias;
  if (typeof qkvBias !== 'boolean')
    throw fieldError(source, 'qkv_bias', `must be true or false, got ${describeValue(qkvBias)}`);
  const modalityTypeVocabSize = int('modality_type_vocab_size');
  if (modalityTypeVocabSize < geometry.numImages + 1) {
    throw fieldError(
      source,
      'modality_type_vocab_size',
      geometry.numImages === 1
        ? 'must be at least 2 (text and image)'
        : `(${modalityTypeVocabSize}) must be at least ${geometry.numImages + 1} (text and one row per image)`,
    );
  }
  return {
    layout: 'hf',
    architecture,
    task,
    geometry,
    labels,
    textPositionRows: geometry.maxTextLength,
    typeVocabSize: int('type_vocab_size'),
    modalityTypeVocabSize,
    qkvBias,
    reduction: parsePumerSection(c['pumer'], geometry.numLayers, source),
  };
}

/**
 * The labels of a Hugging Face head: `id2label` (required of a VQA head: it names the answers); absent, the
 * task's own (NLVR2 False/True). A retrieval head has one output, its score, whatever `id2label` says
 * (transformers' default two labels are not its outputs).
 */
function hfLabels(
  c: Record<string, unknown>,
  task: ViltTask,
  architecture: string,
  source: string,
): readonly string[] {
  if (task === 'retrieval') return TASK_LABELS.retrieval ?? [];
  if (architecture === VQA_ARCHITECTURE || c['id2label'] !== undefined) return parseLabels(c, source);
  return TASK_LABELS[task] ?? [];
}

/** `num_images` of ViltForImagesAndTextClassification: the pair of NLVR2 (the only count read here). */
function nlvr2NumImages(c: Record<string, unknown>, source: string): number {
  const n = c['num_images'];
  if (n !== 2) {
    throw fieldError(
      source,
      'num_images',
      `must be 2 for ViltForImagesAndTextClassification (NLVR2's image pair), got ${describeValue(n)}`,
    );
  }
  return 2;
}

function parsePumerSection(raw: unknown, numLayers: number, source: string): ReductionConfig | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw fieldError(source, 'pumer', 'must be an object');
  const p = raw as Record<string, unknown>;
  if (p['attention'] !== undefined && p['attention'] !== 'pumer-soft') {
    throw fieldError(
      source,
      'pumer.attention',
      `must be "pumer-soft" (the only attention PuMer defines), got ${describeValue(p['attention'])}`,
    );
  }
  if (!Array.isArray(p['reduce_layers']))
    throw fieldError(source, 'pumer.reduce_layers', 'must be an array of layer indices');
  try {
    return validateReductionConfig(reductionConfigFromReference(p), numLayers);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new PumerError('CONFIG', `${source}: "pumer" section: ${msg}`, { cause: err });
  }
}
