import {
  floatTensor,
  intTensor,
  type MeterInputs,
  type MeterOutputs,
  meterStepsFromLayerIndices,
  PumerError,
  type ReductionConfig,
  reductionConfigFromReference,
  validateReductionConfig,
} from '@pumer/core';
import { Comparison } from '../golden/compare.js';
import { GOLDEN_FORMAT, type GoldenTensor, parseGoldenTensor } from '../golden/format.js';

/**
 * The tiny METER models' `cases.json` (kind `meter_model_cases`, docs/meter.md, "Reference data"): one batch
 * of examples run by the authors' model with the task's schedule and without, read without @pumer/meter so
 * every backend's tests can use it. This module parses and compares; it reads no files.
 */
export const METER_MODEL_CASES_KIND = 'meter_model_cases';

/** What one co-attention step of the reference left (counts after its text layer). */
export interface MeterStepExpectation {
  readonly step: number;
  /** The authors' layer_idx of the step (2·step). */
  readonly layerIdx: number;
  readonly reduces: boolean;
  readonly textTokens: number;
  readonly imageTokens: number;
  /** The text layer's output and mask, and the image layer's output, for a closer look when a run fails. */
  readonly textStates: GoldenTensor;
  readonly textMasks: GoldenTensor;
  readonly imageStates: GoldenTensor;
}

/** One reference run (schedule on or off). */
export interface MeterRunExpectation {
  readonly logits: GoldenTensor;
  readonly clsFeats: GoldenTensor;
  /** Per image pass (NLVR2: two), its steps. */
  readonly passes: readonly (readonly MeterStepExpectation[])[];
}

export interface MeterModelCases {
  readonly name: string;
  readonly task: string;
  readonly numSteps: number;
  /** The task's schedule in step indices (the authors' layer_idx / 2). */
  readonly config: ReductionConfig;
  readonly inputs: MeterInputs;
  /** Per pass: RoBERTa's output before the text transform, and the ViT's after ln_post. */
  readonly encoders: readonly { readonly textEncoderOut: GoldenTensor; readonly vitOut: GoldenTensor }[];
  readonly reduced: MeterRunExpectation;
  readonly unreduced: MeterRunExpectation;
}

function fail(message: string): never {
  throw new PumerError('GOLDEN', message);
}

function record(where: string, v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${where} must be an object`);
  return v as Record<string, unknown>;
}

function list(where: string, v: unknown): unknown[] {
  if (!Array.isArray(v)) fail(`${where} must be an array`);
  return v;
}

function int(where: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v))
    fail(`${where} must be an integer, got ${JSON.stringify(v)}`);
  return v;
}

function tensor(where: string, r: Record<string, unknown>, key: string): GoldenTensor {
  return parseGoldenTensor(`${where}.${key}`, r[key]);
}

function parseRun(where: string, v: unknown): MeterRunExpectation {
  const r = record(where, v);
  const passes = list(`${where}.passes`, r['passes']).map((p, i) => {
    const pw = `${where}.passes[${i}]`;
    return list(`${pw}.steps`, record(pw, p)['steps']).map((s, k) => {
      const sw = `${pw}.steps[${k}]`;
      const st = record(sw, s);
      if (typeof st['reduces'] !== 'boolean') fail(`${sw}.reduces must be a boolean`);
      return {
        step: int(`${sw}.step`, st['step']),
        layerIdx: int(`${sw}.layer_idx`, st['layer_idx']),
        reduces: st['reduces'] as boolean,
        textTokens: int(`${sw}.text_tokens`, st['text_tokens']),
        imageTokens: int(`${sw}.image_tokens`, st['image_tokens']),
        textStates: tensor(sw, st, 'text_states'),
        textMasks: tensor(sw, st, 'text_masks'),
        imageStates: tensor(sw, st, 'image_states'),
      };
    });
  });
  return { logits: tensor(where, r, 'logits'), clsFeats: tensor(where, r, 'cls_feats'), passes };
}

/**
 * Parses a decoded cases.json: the batch as MeterInputs (NLVR2's `pixel_values1`/`pixel_values2` stacked to
 * [B, 2, 3, S, S]), the schedule read by core's `reductionConfigFromReference` with its layer indices turned
 * into steps (core's `meterStepsFromLayerIndices`), and both reference runs.
 */
export function parseMeterModelCases(doc: unknown): MeterModelCases {
  const d = record('the document', doc);
  if (d['format'] !== GOLDEN_FORMAT)
    fail(`format must be "${GOLDEN_FORMAT}", got ${JSON.stringify(d['format'])}`);
  if (d['kind'] !== METER_MODEL_CASES_KIND)
    fail(`kind must be "${METER_MODEL_CASES_KIND}", got ${JSON.stringify(d['kind'])}`);
  const params = record('params', d['params']);
  const numSteps = list('params.layer_idx_of_step', params['layer_idx_of_step']).length;
  const schedule = record('params.schedule', params['schedule']);
  const layerIdx = list('params.schedule.reduce_layers', schedule['reduce_layers'] ?? []).map((l, i) =>
    int(`params.schedule.reduce_layers[${i}]`, l),
  );
  const config = validateReductionConfig(
    reductionConfigFromReference(schedule, meterStepsFromLayerIndices(layerIdx, numSteps)),
    numSteps,
  );
  const inputs = record('inputs', d['inputs']);
  const ids = tensor('inputs', inputs, 'text_ids');
  const mask = tensor('inputs', inputs, 'text_masks');
  let pixelValues: MeterInputs['pixelValues'];
  if ('pixel_values' in inputs) {
    const p = tensor('inputs', inputs, 'pixel_values');
    pixelValues = floatTensor(Float32Array.from(p.data), p.shape);
  } else {
    const a = tensor('inputs', inputs, 'pixel_values1');
    const b = tensor('inputs', inputs, 'pixel_values2');
    if (a.shape.join() !== b.shape.join()) fail('inputs.pixel_values1 and pixel_values2 differ in shape');
    const [B, ...rest] = a.shape as [number, ...number[]];
    const plane = a.data.length / B;
    const out = new Float32Array(2 * a.data.length);
    for (let i = 0; i < B; i++) {
      out.set(a.data.slice(i * plane, (i + 1) * plane), 2 * i * plane);
      out.set(b.data.slice(i * plane, (i + 1) * plane), (2 * i + 1) * plane);
    }
    pixelValues = floatTensor(out, [B, 2, ...rest]);
  }
  const outputs = record('outputs', d['outputs']);
  const encoders = list('outputs.encoders', outputs['encoders']).map((e, i) => {
    const r = record(`outputs.encoders[${i}]`, e);
    return {
      textEncoderOut: tensor(`outputs.encoders[${i}]`, r, 'text_encoder_out'),
      vitOut: tensor(`outputs.encoders[${i}]`, r, 'vit_out'),
    };
  });
  return {
    name: typeof d['name'] === 'string' ? d['name'] : '',
    task: String(params['task']),
    numSteps,
    config,
    inputs: {
      inputIds: intTensor(ids.data, ids.shape),
      attentionMask: intTensor(mask.data, mask.shape),
      pixelValues,
    },
    encoders,
    reduced: parseRun('outputs.reduced', outputs['reduced']),
    unreduced: parseRun('outputs.unreduced', outputs['unreduced']),
  };
}

/**
 * Compares a backend's MeterOutputs with a reference run: logits and cls_feats within ATOL + RTOL·|want|, and
 * per pass and step the token counts after the step (exact) and whether it reduced.
 */
export function compareMeterOutputs(got: MeterOutputs, want: MeterRunExpectation): Comparison {
  const cmp = new Comparison();
  cmp.tensor('logits', got.logits, want.logits);
  cmp.tensor('cls_feats', got.clsFeats, want.clsFeats);
  const passes = got.passes ?? [got.steps];
  cmp.count('passes', passes.length, want.passes.length);
  want.passes.forEach((steps, p) => {
    const traces = passes[p] ?? [];
    cmp.count(`pass ${p}: steps`, traces.length, steps.length);
    steps.forEach((s, k) => {
      const t = traces[k];
      if (!t) return;
      cmp.count(`pass ${p} step ${k}: text tokens`, t.textOut, s.textTokens);
      cmp.count(`pass ${p} step ${k}: image tokens`, t.imageOut, s.imageTokens);
      cmp.count(`pass ${p} step ${k}: reduces`, Number(t.kind === 'pumer'), Number(s.reduces));
    });
  });
  return cmp;
}
