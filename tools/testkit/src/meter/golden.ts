import {
  type Backend,
  type CoAttentionStepArgs,
  type CoAttentionStepResult,
  PumerError,
  reductionConfigFromReference,
} from '@pumer/core';
import { Comparison } from '../golden/compare.js';
import { goldenToFloat } from '../golden/convert.js';
import { GOLDEN_FORMAT, type GoldenTensor, parseGoldenTensor } from '../golden/format.js';
import type { CaseResult } from '../golden/run.js';
import { crossLayerWeightsFromAuthors } from './cross-layer-weights.js';

/**
 * The golden `meter_cross_layer` cases (docs/meter.md, "Reference data"): one METER co-attention step (text
 * layer with PuMer, then image layer) computed by the authors' code. This module parses, converts and
 * compares; it reads no files, so it also runs in a browser page.
 */
export const METER_CROSS_LAYER_KIND = 'meter_cross_layer';

const INPUTS = ['text_states', 'text_masks', 'image_states', 'image_masks'] as const;
const OUTPUTS = [
  'text_states',
  'text_masks',
  'image_states_reduced',
  'image_masks',
  'txt2img_attn',
  'image_states',
  'img2txt_attn',
] as const;
const SCALARS = ['text_len', 'image_len'] as const;
const PARAMS = ['num_attention_heads', 'layer_norm_eps', 'prune_r', 'merge_r', 'merge_text'] as const;

export interface MeterGoldenCase {
  readonly name: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly weights: Readonly<Record<string, GoldenTensor>>;
  readonly inputs: Readonly<Record<(typeof INPUTS)[number], GoldenTensor>>;
  readonly outputs: Readonly<Record<(typeof OUTPUTS)[number], GoldenTensor>>;
  readonly scalars: Readonly<Record<(typeof SCALARS)[number], number>>;
  /** When the step prunes (p > 0): the authors' saliency [B, I] and kept indices [B, keep]. */
  readonly derived: Readonly<Partial<Record<'image_saliency' | 'kept_index', GoldenTensor>>>;
}

function fail(message: string): never {
  throw new PumerError('GOLDEN', message);
}

function record(where: string, v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${where} must be an object`);
  return v as Record<string, unknown>;
}

function tensors(where: string, v: unknown, required: readonly string[]): Record<string, GoldenTensor> {
  const r = v === undefined ? {} : record(where, v);
  const out: Record<string, GoldenTensor> = {};
  for (const [k, t] of Object.entries(r))
    if (typeof t !== 'number') out[k] = parseGoldenTensor(`${where}.${k}`, t);
  for (const k of required)
    if (!(k in out)) fail(`${where}.${k} is missing (required by ${METER_CROSS_LAYER_KIND})`);
  return out;
}

/** Parses one decoded `meter_cross_layer` document, or throws a PumerError (code GOLDEN) saying what is wrong. */
export function parseMeterGoldenCase(doc: unknown, source: string): MeterGoldenCase {
  const d = record('the document', doc);
  if (d['format'] !== GOLDEN_FORMAT)
    fail(`format must be "${GOLDEN_FORMAT}", got ${JSON.stringify(d['format'])}`);
  if (d['kind'] !== METER_CROSS_LAYER_KIND)
    fail(`kind must be "${METER_CROSS_LAYER_KIND}", got ${JSON.stringify(d['kind'])}`);
  const params = record('params', d['params'] ?? {});
  for (const k of PARAMS)
    if (!(k in params)) fail(`params.${k} is missing (required by ${METER_CROSS_LAYER_KIND})`);
  const outs = record('outputs', d['outputs']);
  const scalars: Record<string, number> = {};
  for (const k of SCALARS) {
    const v = outs[k];
    if (typeof v !== 'number' || !Number.isInteger(v))
      fail(`outputs.${k} must be an integer, got ${JSON.stringify(v)}`);
    scalars[k] = v;
  }
  return {
    name: typeof d['name'] === 'string' && d['name'] !== '' ? d['name'] : source,
    params,
    weights: tensors('weights', d['weights'], []),
    inputs: tensors('inputs', d['inputs'], INPUTS) as MeterGoldenCase['inputs'],
    outputs: tensors('outputs', outs, OUTPUTS) as MeterGoldenCase['outputs'],
    scalars: scalars as MeterGoldenCase['scalars'],
    derived: tensors('derived', d['derived'], []),
  };
}

/**
 * The Backend.runCoAttentionStep call a case describes: step 0 of both layers' weights by the authors' names,
 * heads and eps from params, and the authors' schedule parameters (core's `reductionConfigFromReference`)
 * with step 0 reducing. The case's `sim_method` / `merge_style` pass through; METER ignores them.
 */
export function coAttentionStepArgsFromGolden(c: MeterGoldenCase): CoAttentionStepArgs {
  const eps = c.params['layer_norm_eps'];
  if (typeof eps !== 'number' || !(eps > 0))
    fail(`params.layer_norm_eps must be a number > 0, got ${JSON.stringify(eps)}`);
  const heads = c.params['num_attention_heads'];
  if (typeof heads !== 'number' || !Number.isInteger(heads) || heads < 1)
    fail(`params.num_attention_heads must be a positive integer, got ${JSON.stringify(heads)}`);
  return {
    weights: {
      text: crossLayerWeightsFromAuthors(c.weights, 'cross_modal_text_layers.0.', eps),
      image: crossLayerWeightsFromAuthors(c.weights, 'cross_modal_image_layers.0.', eps),
    },
    numHeads: heads,
    layerNormEps: eps,
    text: goldenToFloat(c.inputs.text_states),
    textMask: goldenToFloat(c.inputs.text_masks),
    image: goldenToFloat(c.inputs.image_states),
    imageMask: goldenToFloat(c.inputs.image_masks),
    config: reductionConfigFromReference(c.params as Record<string, unknown>, [0]),
    step: 0,
  };
}

/**
 * Compares a step's result with a case (values within ATOL + RTOL·|want|, shapes exact), the output lengths,
 * and — when the image stream was reduced — the kept indices exactly and the saliency within tolerance.
 */
export function compareCoAttentionStep(got: CoAttentionStepResult, c: MeterGoldenCase): Comparison {
  const cmp = new Comparison();
  cmp.tensor('text_states', got.text, c.outputs.text_states);
  cmp.tensor('text_masks', got.textMask, c.outputs.text_masks);
  cmp.tensor('image_states_reduced', got.imageReduced, c.outputs.image_states_reduced);
  cmp.tensor('image_masks', got.imageMask, c.outputs.image_masks);
  cmp.tensor('image_states', got.image, c.outputs.image_states);
  cmp.tensor('txt2img_attn', got.textToImageAttn, c.outputs.txt2img_attn);
  cmp.tensor('img2txt_attn', got.imageToTextAttn, c.outputs.img2txt_attn);
  cmp.count('text_len', got.text.shape[1] ?? -1, c.scalars.text_len);
  cmp.count('image_len', got.image.shape[1] ?? -1, c.scalars.image_len);
  const imageReduced = got.plan.kind === 'pumer' && got.plan.imageReduced;
  const kept = c.derived.kept_index;
  if (imageReduced && kept) {
    const idx = got.trace.keepIdx;
    if (!idx) cmp.problems.push('kept_index: the trace has no keepIdx');
    else if (idx.shape.join() !== kept.shape.join())
      cmp.problems.push(`kept_index: shape [${idx.shape.join(', ')}], expected [${kept.shape.join(', ')}]`);
    else {
      const at = kept.data.findIndex((v, i) => idx.data[i] !== v);
      if (at >= 0)
        cmp.problems.push(`kept_index: differs at flat index ${at}: ${idx.data[at]} vs ${kept.data[at]}`);
    }
  }
  if (imageReduced && c.derived.image_saliency)
    cmp.tensor('image_saliency', got.trace.imageSaliency, c.derived.image_saliency);
  return cmp;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Runs one parsed case on a backend and compares. */
export async function runMeterGoldenCase(c: MeterGoldenCase, backend: Backend): Promise<CaseResult> {
  let cmp: Comparison;
  try {
    cmp = compareCoAttentionStep(await backend.runCoAttentionStep(coAttentionStepArgsFromGolden(c)), c);
  } catch (err) {
    return { name: c.name, passed: false, maxAbsErr: Number.NaN, reason: `error: ${message(err)}` };
  }
  return cmp.ok
    ? { name: c.name, passed: true, maxAbsErr: cmp.maxAbsErr }
    : { name: c.name, passed: false, maxAbsErr: cmp.maxAbsErr, reason: cmp.problems.join('; ') };
}

/** Parses and runs one document (already JSON-decoded); a malformed one is a failed case, not a throw. */
export async function runMeterGoldenDocument(
  doc: unknown,
  source: string,
  backend: Backend,
): Promise<CaseResult> {
  let c: MeterGoldenCase;
  try {
    c = parseMeterGoldenCase(doc, source);
  } catch (err) {
    return {
      name: source,
      passed: false,
      maxAbsErr: Number.NaN,
      reason: `malformed golden file: ${message(err)}`,
    };
  }
  return runMeterGoldenCase(c, backend);
}
