import { PumerError } from '@pumer/core';
import type { CheckpointLayout } from '../config.js';
import { describeValue } from '../json-value.js';

/**
 * Which layout a ViLT checkpoint is in. Both say `"model_type": "vilt"` and may name the same class
 * (`ViltForQuestionAnswering`), so the config's depth field and the tensor names decide:
 * - Hugging Face (transformers' ViltConfig): `num_hidden_layers` (left out when it is the default 12),
 *   tensors under `vilt.embeddings.*` and `vilt.encoder.*`;
 * - the PuMer authors' own classes: `num_layers`, tensors under `vilt.transformer.*` (their timm ViT).
 */

const TENSOR_PREFIXES: Readonly<Record<CheckpointLayout, string>> = {
  hf: 'vilt.embeddings.',
  authors: 'vilt.transformer.',
};

const DEPTH_FIELDS: Readonly<Record<CheckpointLayout, string>> = {
  hf: 'num_hidden_layers',
  authors: 'num_layers',
};

/** Classes only the authors' code defines (VQA and retrieval share their names with transformers'). */
const AUTHORS_ONLY_ARCHITECTURES = ['ViltForVisualEntailment', 'ViltForVisualReasoning'];

const LAYOUT_NAMES: Readonly<Record<CheckpointLayout, string>> = {
  hf: 'the Hugging Face layout (num_hidden_layers, vilt.embeddings.*)',
  authors: "the PuMer authors' layout (num_layers, vilt.transformer.*)",
};

function configSays(c: Record<string, unknown>): CheckpointLayout | 'both' | null {
  const hf = DEPTH_FIELDS.hf in c;
  const authors =
    DEPTH_FIELDS.authors in c ||
    (Array.isArray(c['architectures']) &&
      c['architectures'].some((a) => AUTHORS_ONLY_ARCHITECTURES.includes(a)));
  if (hf && authors) return 'both';
  return hf ? 'hf' : authors ? 'authors' : null;
}

function tensorsSay(names: readonly string[]): CheckpointLayout | 'both' | null {
  const hf = names.some((n) => n.startsWith(TENSOR_PREFIXES.hf));
  const authors = names.some((n) => n.startsWith(TENSOR_PREFIXES.authors));
  if (hf && authors) return 'both';
  return hf ? 'hf' : authors ? 'authors' : null;
}

/** Distinct top-level name prefixes (two dotted parts), for telling a user what a file holds. */
function prefixesOf(names: readonly string[], limit = 6): string {
  const seen = [...new Set(names.map((n) => n.split('.').slice(0, 2).join('.')))];
  if (seen.length === 0) return 'no tensors';
  const shown = seen.slice(0, limit).map((p) => `"${p}.*"`);
  return `tensors ${shown.join(', ')}${seen.length > limit ? `, ... (${seen.length} groups)` : ''}`;
}

function configSummary(c: Record<string, unknown>): string {
  const keys = ['model_type', 'architectures', DEPTH_FIELDS.hf, DEPTH_FIELDS.authors];
  return keys.map((k) => (k in c ? `${k}: ${describeValue(c[k])}` : `no ${k}`)).join(', ');
}

/**
 * The layout of a checkpoint from its config.json (parsed) and its tensor names. Throws a CHECKPOINT
 * PumerError naming what was found when the two disagree or neither layout fits. `source` names the
 * checkpoint in messages.
 */
export function detectLayout(
  config: unknown,
  tensorNames: Iterable<string>,
  source = 'checkpoint',
): CheckpointLayout {
  if (config === null || typeof config !== 'object' || Array.isArray(config))
    throw new PumerError('CONFIG', `${source}: config.json must be a JSON object`);
  const c = config as Record<string, unknown>;
  const names = [...tensorNames];
  const fromConfig = configSays(c);
  const fromTensors = tensorsSay(names);
  const found = () => `found config.json with ${configSummary(c)}; ${prefixesOf(names)}`;
  if (fromTensors === 'hf' || fromTensors === 'authors') {
    if (fromConfig === null || fromConfig === fromTensors) return fromTensors;
    throw new PumerError(
      'CHECKPOINT',
      `${source}: config.json and the weights disagree on the layout: the tensors are in ${LAYOUT_NAMES[fromTensors]}, config.json ${fromConfig === 'both' ? 'has both depth fields' : `is in ${LAYOUT_NAMES[fromConfig]}`} (${found()})`,
    );
  }
  throw new PumerError(
    'CHECKPOINT',
    `${source}: not a ViLT checkpoint in a layout read here (${LAYOUT_NAMES.hf}, or ${LAYOUT_NAMES.authors}): ${found()}`,
  );
}
