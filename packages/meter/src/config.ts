import {
  type MeterGeometry,
  meterStepsFromLayerIndices,
  PumerError,
  type ReductionConfig,
  reductionConfigFromReference,
  validateMeterReductionConfig,
  type ViltTask,
} from '@pumer/core';
import { configArchitecture, describeValue, fieldError, optionalPositiveInt } from '@pumer/vilt';

/**
 * The PuMer authors' METER checkpoints as their classes write them: config.json from their MeterConfig (only
 * the fields that differ from its defaults), and text_config.json, the RoBERTa config their text encoder is
 * built from (roberta-base in their setup, where it is not saved beside the checkpoint). Parsed here into
 * core's MeterGeometry, the head's task and the checkpoint's schedule in step indices.
 */

/** Their task classes: the task each answers and where its head is (`{prefix}.{0,1,3}`, or `rank_output`). */
export const METER_ARCHITECTURES: Readonly<
  Record<string, { readonly task: ViltTask; readonly headPrefix: string }>
> = {
  MeterForQuestionAnswering: { task: 'vqa', headPrefix: 'vqa_classifier' },
  MeterForVisualEntailment: { task: 've', headPrefix: 've_classifier' },
  MeterForVisualReasoning: { task: 'nlvr2', headPrefix: 'nlvr2_classifier' },
  MeterForImageAndTextRetrieval: { task: 'retrieval', headPrefix: 'rank_output' },
};

/** config.json's `model_type` of a METER checkpoint. */
export const METER_MODEL_TYPE = 'meter';

/** Their MeterConfig's defaults, for the fields a config.json leaves out. */
export const METER_CONFIG_DEFAULTS = Object.freeze({
  hidden_size: 768,
  num_heads: 12,
  mlp_ratio: 4,
  num_top_layer: 6,
  max_text_len: 40,
  vocab_size: 50265,
  token_types: 2,
  vqa_label_size: 3129,
  image_size: 288,
  vit_patch_size: 16,
  tokenizer: 'roberta-base',
});

/**
 * The CLIP ViT their code builds: ViT-B/16 hard-coded (width 768, 12 heads, CLIP's 12 layers less one = 11
 * blocks). Smaller models record their sizes as the extra config.json keys `vit_width`, `vit_num_blocks`,
 * `vit_heads`.
 */
export const METER_VIT_DEFAULTS = Object.freeze({ vit_width: 768, vit_num_blocks: 11, vit_heads: 12 });

/** roberta-base's config, for a checkpoint without text_config.json (as the authors' releases are). */
export const ROBERTA_BASE_CONFIG = Object.freeze({
  model_type: 'roberta',
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  layer_norm_eps: 1e-5,
  max_position_embeddings: 514,
  vocab_size: 50265,
  type_vocab_size: 1,
  pad_token_id: 1,
  hidden_act: 'gelu',
});

/**
 * LayerNorm epsilons their modules use: the co-attention layers take BertConfig's default 1e-12 (the authors
 * pass none), CLIP's ViT and the classifier heads PyTorch's 1e-5.
 */
export const METER_NORM_EPS = Object.freeze({ crossLayers: 1e-12, vit: 1e-5, classifier: 1e-5 });

/** The outputs of the tasks whose outputs are fixed (the authors' label order; retrieval: one score). */
export const METER_TASK_LABELS: Readonly<Partial<Record<ViltTask, readonly string[]>>> = {
  ve: ['contradiction', 'neutral', 'entailment'],
  nlvr2: ['False', 'True'],
  retrieval: ['score'],
};

export interface MeterConfig {
  /** The authors' class (config.json `architectures[0]`). */
  readonly architecture: string;
  readonly task: ViltTask;
  /** Where the head's tensors are: `{headPrefix}.{0,1,3}` or `rank_output`. */
  readonly headPrefix: string;
  readonly geometry: MeterGeometry;
  /** Rows of the METER-level token-type table (`token_types`): text, then one per image. */
  readonly tokenTypes: number;
  /** Rows of RoBERTa's own token-type table (type_vocab_size); only row 0 is read. */
  readonly textTypeVocabSize: number;
  /** The labels config.json gives (`id2label`), or the task's fixed ones; empty for a VQA head without. */
  readonly labels: readonly string[];
  /** The schedule the checkpoint carries, `reduceLayers` in step indices; null when it has none. */
  readonly reduction: ReductionConfig | null;
  /** config.json's `tokenizer`: the Hugging Face name of the tokenizer the checkpoint was trained with. */
  readonly tokenizerName: string;
}

type Json = Record<string, unknown>;

function object(json: unknown, source: string): Json {
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new PumerError('CONFIG', `${source}: expected a JSON object, got ${describeValue(json)}`);
  return json as Json;
}

function positiveNumber(c: Json, field: string, source: string, fallback: number): number {
  const v = c[field] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
    throw fieldError(source, field, `must be a positive number, got ${describeValue(v)}`);
  return v;
}

function nonNegativeInt(c: Json, field: string, source: string, fallback: number): number {
  const v = c[field] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw fieldError(source, field, `must be an integer >= 0, got ${describeValue(v)}`);
  return v;
}

/** A string field that, when present, must have the one value this reader implements. */
function fixedString(c: Json, field: string, source: string, want: string, why: string): void {
  const v = c[field];
  if (v !== undefined && v !== want)
    throw fieldError(source, field, `is ${describeValue(v)}: ${why} (expected "${want}")`);
}

function divides(source: string, field: string, part: number, whole: number, wholeName: string): void {
  if (whole % part !== 0) throw fieldError(source, field, `(${part}) must divide ${wholeName} (${whole})`);
}

/** config.json `id2label`, when present: labels in id order. */
function id2label(c: Json, source: string): string[] | null {
  const raw = c['id2label'];
  if (raw === undefined) return null;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw fieldError(source, 'id2label', 'must be an object mapping "0", "1", ... to labels');
  const entries = Object.entries(raw as Json);
  const labels: string[] = new Array(entries.length);
  for (const [key, label] of entries) {
    const id = Number(key);
    if (!Number.isInteger(id) || id < 0 || id >= entries.length || String(id) !== key)
      throw fieldError(source, 'id2label', `keys must be the ids 0..${entries.length - 1}, got "${key}"`);
    if (typeof label !== 'string')
      throw fieldError(source, 'id2label', `label ${key} must be a string, got ${describeValue(label)}`);
    labels[id] = label;
  }
  return labels;
}

/**
 * Their schedule fields (`reduce_layers` as layer indices 2s of step s, `prune_r`, `merge_r`, `merge_text`)
 * -> core's ReductionConfig in step indices (`meterStepsFromLayerIndices`), or null when `reduce_layers` is
 * null, empty, or names no step. `sim_method` and `merge_style` are ignored by their METER (docs/meter.md);
 * the config records mean_head / tome, what it does.
 */
export function meterScheduleFromConfig(
  c: Json,
  numSteps: number,
  source = 'config.json',
): ReductionConfig | null {
  const layers = c['reduce_layers'];
  if (layers === undefined || layers === null) return null;
  if (!Array.isArray(layers) || !layers.every((l) => typeof l === 'number' && Number.isInteger(l) && l >= 0))
    throw fieldError(
      source,
      'reduce_layers',
      `must be null or a list of layer indices (integers >= 0), got ${describeValue(layers)}`,
    );
  const steps = meterStepsFromLayerIndices(layers as number[], numSteps);
  if (steps.length === 0) return null;
  try {
    const read = reductionConfigFromReference({ ...c, sim_method: 'mean_head', merge_style: 'tome' }, steps);
    if (read.tomeCount)
      throw new PumerError(
        'CONFIG',
        `merge_r must be a ratio below 1 for METER, got ${String(c['merge_r'])}`,
      );
    return validateMeterReductionConfig(read, numSteps);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new PumerError('CONFIG', `${source}: PuMer schedule fields: ${msg}`, { cause: err });
  }
}

/** text_config.json (or roberta-base's when absent) -> the text encoder's geometry. */
function textGeometry(json: unknown, source: string) {
  const t = json === undefined ? { ...ROBERTA_BASE_CONFIG } : object(json, source);
  const R = ROBERTA_BASE_CONFIG;
  fixedString(t, 'model_type', source, 'roberta', "METER's text encoder is RoBERTa");
  fixedString(t, 'hidden_act', source, 'gelu', 'the text encoder runs the exact (erf) GELU');
  fixedString(t, 'position_embedding_type', source, 'absolute', 'RoBERTa positions are absolute');
  const int = (field: keyof typeof R & string) => optionalPositiveInt(t, field, source, R[field] as number);
  const hiddenSize = int('hidden_size');
  const numHeads = int('num_attention_heads');
  divides(source, 'num_attention_heads', numHeads, hiddenSize, 'hidden_size');
  return {
    geometry: {
      numLayers: int('num_hidden_layers'),
      hiddenSize,
      numHeads,
      intermediateSize: int('intermediate_size'),
      layerNormEps: positiveNumber(t, 'layer_norm_eps', source, R.layer_norm_eps),
      vocabSize: int('vocab_size'),
      maxPositions: int('max_position_embeddings'),
      padTokenId: nonNegativeInt(t, 'pad_token_id', source, R.pad_token_id),
    },
    typeVocabSize: int('type_vocab_size'),
  };
}

/**
 * Parses config.json (the authors' MeterConfig) and text_config.json (RoBERTa's; undefined = roberta-base)
 * into a MeterConfig. Strict: wrong types, unknown classes and inconsistent sizes are CONFIG errors naming
 * the file and field.
 */
export function parseMeterConfig(
  configJson: unknown,
  textConfigJson?: unknown,
  sources: { readonly config?: string; readonly textConfig?: string } = {},
): MeterConfig {
  const source = sources.config ?? 'config.json';
  const textSource = sources.textConfig ?? 'text_config.json';
  const c = object(configJson, source);
  if (c['model_type'] !== METER_MODEL_TYPE)
    throw fieldError(
      source,
      'model_type',
      `is ${describeValue(c['model_type'])}, not "${METER_MODEL_TYPE}": this is not a METER checkpoint`,
    );
  const architecture = configArchitecture(c, source, '');
  const head = METER_ARCHITECTURES[architecture];
  if (!head)
    throw fieldError(
      source,
      'architectures',
      architecture === ''
        ? `is missing: it names the task class (${Object.keys(METER_ARCHITECTURES).join(', ')})`
        : `names ${describeValue(architecture)}, not one of the authors' METER task classes (${Object.keys(METER_ARCHITECTURES).join(', ')})`,
    );
  const D = METER_CONFIG_DEFAULTS;
  const V = METER_VIT_DEFAULTS;
  const int = (field: string, fallback: number) => optionalPositiveInt(c, field, source, fallback);
  const hiddenSize = int('hidden_size', D.hidden_size);
  const numHeads = int('num_heads', D.num_heads);
  divides(source, 'num_heads', numHeads, hiddenSize, 'hidden_size');
  const mlpRatio = positiveNumber(c, 'mlp_ratio', source, D.mlp_ratio);
  const intermediateSize = hiddenSize * mlpRatio;
  if (!Number.isInteger(intermediateSize))
    throw fieldError(
      source,
      'mlp_ratio',
      `(${mlpRatio}) times hidden_size (${hiddenSize}) must be an integer`,
    );
  const numSteps = int('num_top_layer', D.num_top_layer);

  const vitWidth = int('vit_width', V.vit_width);
  const vitHeads = int('vit_heads', V.vit_heads);
  divides(source, 'vit_heads', vitHeads, vitWidth, 'vit_width');
  const patchSize = int('vit_patch_size', D.vit_patch_size);
  const imageSize = int('image_size', D.image_size);
  divides(source, 'vit_patch_size', patchSize, imageSize, 'image_size');

  const text = textGeometry(textConfigJson, textSource);
  const vocabSize = int('vocab_size', D.vocab_size);
  if (vocabSize !== text.geometry.vocabSize)
    throw fieldError(
      source,
      'vocab_size',
      `(${vocabSize}) differs from ${textSource} "vocab_size" (${text.geometry.vocabSize}): the two files belong to different models`,
    );
  const maxTextLength = int('max_text_len', D.max_text_len);
  // RoBERTa's positions start at pad_token_id + 1: a window of L tokens reads rows up to pad + L.
  const positionsNeeded = maxTextLength + text.geometry.padTokenId + 1;
  if (positionsNeeded > text.geometry.maxPositions)
    throw fieldError(
      source,
      'max_text_len',
      `(${maxTextLength}) needs ${positionsNeeded} position rows, but ${textSource} "max_position_embeddings" is ${text.geometry.maxPositions}`,
    );
  const numImages = head.task === 'nlvr2' ? 2 : 1;
  const tokenTypes = int('token_types', D.token_types);
  if (tokenTypes < numImages + 1)
    throw fieldError(
      source,
      'token_types',
      `(${tokenTypes}) must be at least ${numImages + 1} for ${architecture} (text and one row per image)`,
    );
  const fixed = METER_TASK_LABELS[head.task];
  const given = id2label(c, source);
  const numLabels = fixed ? fixed.length : int('vqa_label_size', D.vqa_label_size);
  if (given && given.length !== numLabels)
    throw fieldError(
      source,
      'id2label',
      `has ${given.length} labels, but the ${architecture} head has ${numLabels} outputs`,
    );
  const tokenizer = c['tokenizer'] ?? D.tokenizer;
  if (typeof tokenizer !== 'string')
    throw fieldError(source, 'tokenizer', `must be a tokenizer name, got ${describeValue(tokenizer)}`);
  const geometry: MeterGeometry = {
    hiddenSize,
    numHeads,
    intermediateSize,
    numSteps,
    crossLayerNormEps: METER_NORM_EPS.crossLayers,
    maxTextLength,
    text: text.geometry,
    image: {
      width: vitWidth,
      numBlocks: int('vit_num_blocks', V.vit_num_blocks),
      numHeads: vitHeads,
      patchSize,
      imageSize,
      layerNormEps: METER_NORM_EPS.vit,
    },
    numLabels,
    numImages,
  };
  return {
    architecture,
    task: head.task,
    headPrefix: head.headPrefix,
    geometry,
    tokenTypes,
    textTypeVocabSize: text.typeVocabSize,
    labels: given ?? fixed ?? [],
    reduction: meterScheduleFromConfig(c, numSteps, source),
    tokenizerName: tokenizer,
  };
}

/** Whether parsed config.json is a METER checkpoint's (`model_type` "meter"), for loaders choosing a model. */
export function isMeterConfig(json: unknown): boolean {
  return (
    json !== null &&
    typeof json === 'object' &&
    !Array.isArray(json) &&
    (json as Json)['model_type'] === METER_MODEL_TYPE
  );
}
