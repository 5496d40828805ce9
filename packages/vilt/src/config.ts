import {
  PumerError,
  type ReductionConfig,
  reductionConfigFromReference,
  type ViltGeometry,
  validateReductionConfig,
} from '@pumer/core';

/**
 * A Hugging Face ViLT config.json, typed: the geometry the backends need, the answer labels in id order,
 * and the PuMer schedule a fine-tuned checkpoint carries under "pumer" (null when it has none).
 */
export interface ViltConfig {
  readonly geometry: ViltGeometry;
  readonly labels: readonly string[];
  /** Rows of the text token-type table (type_vocab_size); ViLT's text uses row 0. */
  readonly typeVocabSize: number;
  /** Rows of the modality table (modality_type_vocab_size); text is row 0, image row 1. */
  readonly modalityTypeVocabSize: number;
  /** Whether the attention query/key/value projections carry biases (qkv_bias). */
  readonly qkvBias: boolean;
  readonly reduction: ReductionConfig | null;
}

function fieldError(source: string, field: string, message: string): PumerError {
  return new PumerError('CONFIG', `${source}: field "${field}" ${message}`);
}

function requirePositiveInt(json: Record<string, unknown>, field: string, source: string): number {
  const v = json[field];
  if (v === undefined) throw fieldError(source, field, 'is missing (required)');
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw fieldError(source, field, `must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

function optionalPositiveInt(
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
      throw fieldError(source, `id2label.${key}`, `must be a string, got ${JSON.stringify(label)}`);
    labels[id] = label;
  }
  return labels;
}

/** Parses and validates config.json contents. `source` names the file in error messages. */
export function parseViltConfig(json: unknown, source = 'config.json'): ViltConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new PumerError('CONFIG', `${source}: expected a JSON object`);
  }
  const c = json as Record<string, unknown>;
  const hiddenSize = requirePositiveInt(c, 'hidden_size', source);
  const numHeads = requirePositiveInt(c, 'num_attention_heads', source);
  if (hiddenSize % numHeads !== 0) {
    throw fieldError(source, 'num_attention_heads', `(${numHeads}) must divide hidden_size (${hiddenSize})`);
  }
  const imageSize = requirePositiveInt(c, 'image_size', source);
  const patchSize = requirePositiveInt(c, 'patch_size', source);
  if (imageSize % patchSize !== 0)
    throw fieldError(source, 'patch_size', `(${patchSize}) must divide image_size (${imageSize})`);
  const eps = c['layer_norm_eps'];
  if (eps === undefined) throw fieldError(source, 'layer_norm_eps', 'is missing (required)');
  if (typeof eps !== 'number' || !(eps > 0) || !Number.isFinite(eps)) {
    throw fieldError(source, 'layer_norm_eps', `must be a positive number, got ${JSON.stringify(eps)}`);
  }
  const labels = parseLabels(c, source);
  const geometry: ViltGeometry = {
    hiddenSize,
    numLayers: requirePositiveInt(c, 'num_hidden_layers', source),
    numHeads,
    intermediateSize: requirePositiveInt(c, 'intermediate_size', source),
    layerNormEps: eps,
    vocabSize: requirePositiveInt(c, 'vocab_size', source),
    maxTextLength: requirePositiveInt(c, 'max_position_embeddings', source),
    imageSize,
    patchSize,
    numChannels: optionalPositiveInt(c, 'num_channels', source, 3),
    numLabels: labels.length,
  };
  const qkvBias = c['qkv_bias'] === undefined ? true : c['qkv_bias'];
  if (typeof qkvBias !== 'boolean')
    throw fieldError(source, 'qkv_bias', `must be true or false, got ${JSON.stringify(qkvBias)}`);
  const modalityTypeVocabSize = optionalPositiveInt(c, 'modality_type_vocab_size', source, 2);
  if (modalityTypeVocabSize < 2)
    throw fieldError(source, 'modality_type_vocab_size', 'must be at least 2 (text and image)');
  return {
    geometry,
    labels,
    typeVocabSize: optionalPositiveInt(c, 'type_vocab_size', source, 2),
    modalityTypeVocabSize,
    qkvBias,
    reduction: parsePumerSection(c['pumer'], geometry.numLayers, source),
  };
}

function parsePumerSection(raw: unknown, numLayers: number, source: string): ReductionConfig | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw fieldError(source, 'pumer', 'must be an object');
  const p = raw as Record<string, unknown>;
  if (p['attention'] !== undefined && p['attention'] !== 'pumer-soft') {
    throw fieldError(
      source,
      'pumer.attention',
      `must be "pumer-soft" (the only attention PuMer defines), got ${JSON.stringify(p['attention'])}`,
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
