import {
  type Backend,
  type BackendInfo,
  intTensor,
  PumerError,
  resolveSchedule,
  type ViltInputs,
} from '@pumer/core';
import { compareOutputs, MODEL_PARITY_SCHEDULE_NAMES, type ModelParitySchedule } from '@pumer/testkit';
import {
  decodeImageFile,
  type LoadedVilt,
  loadEvalSet,
  loadVilt,
  prepareImage,
  stackImages,
} from '@pumer/vilt/node';
import { loadBackend } from './backends.js';

/**
 * Cross-backend model parity: the whole ViLT, reduced or not, on a backend under test against a reference
 * backend (the CPU reference by default) — logits within a tolerance and every trace index identical
 * (which tokens were kept, where each merged). Shared by the backends' own tests and `pumer parity`.
 */

/** A registered schedule name ('model' = the checkpoint's own; skipped for a checkpoint that has none) or explicit. */
export type ModelParityScheduleChoice = string | ModelParitySchedule;

export interface ModelParityOptions {
  /** The backend under test: a registry name (its package is imported and the backend activated) or a Backend. */
  readonly backend: string | Backend;
  /** What it is compared with (default 'cpu', the reference). */
  readonly reference?: string | Backend;
  /** Checkpoint directories or models loaded with loadVilt. */
  readonly models: readonly (string | LoadedVilt)[];
  /** Default: unreduced, pumer, aggressive (core's registry, scaled to each model's depth). */
  readonly schedules?: readonly ModelParityScheduleChoice[];
  /** A prepared batch (used for every model), or how many rows of `data` to use (default 8). */
  readonly examples?: number | ViltInputs;
  /** An eval.jsonl (rows {image, question, input_ids?, attention_mask?}) feeding `examples` rows. */
  readonly data?: string;
  /** Largest |logit difference| allowed (default 1e-3). */
  readonly tolerance?: number;
}

export interface ModelParityCase {
  /** `<model> <schedule>`. */
  readonly name: string;
  readonly model: string;
  readonly schedule: string;
  readonly passed: boolean;
  /** NaN when the case failed before logits could be compared. */
  readonly maxAbsLogitDiff: number;
  /** Why it failed (the first difference found). */
  readonly reason?: string;
}

export interface ModelParityResult {
  readonly cases: readonly ModelParityCase[];
  readonly passed: number;
  readonly failed: number;
  readonly backend: BackendInfo;
  readonly reference: BackendInfo;
}

export const DEFAULT_MODEL_PARITY_SCHEDULES: readonly ModelParityScheduleChoice[] =
  MODEL_PARITY_SCHEDULE_NAMES;

async function asBackend(b: string | Backend): Promise<Backend> {
  return typeof b === 'string' ? loadBackend(b) : b;
}

function modelName(m: string | LoadedVilt, loaded: LoadedVilt): string {
  if (typeof m === 'string') return m.replace(/\/+$/, '').split('/').pop() || m;
  return loaded.model.id;
}

/** The first `count` rows of an eval set as one batch (reference ids when the file has them). */
export function evalBatch(loaded: LoadedVilt, data: string, count: number): ViltInputs {
  const set = loadEvalSet(data);
  const rows = set.examples.slice(0, count);
  const window = loaded.tokenizer.window;
  const ids: number[] = [];
  const mask: number[] = [];
  for (const row of rows) {
    const enc =
      row.inputIds && row.attentionMask
        ? { inputIds: row.inputIds, attentionMask: row.attentionMask }
        : loaded.tokenizer.encode(row.question);
    if (enc.inputIds.length !== window) {
      throw new PumerError(
        'VALUE',
        `${data}: row "${row.question}" has ${enc.inputIds.length} token ids, the model's text window is ${window}`,
      );
    }
    ids.push(...enc.inputIds);
    mask.push(...enc.attentionMask);
  }
  return {
    inputIds: intTensor(ids, [rows.length, window]),
    attentionMask: intTensor(mask, [rows.length, window]),
    pixelValues: stackImages(
      rows.map((r) => prepareImage(decodeImageFile(r.image), loaded.preprocessor, r.image)),
    ),
  };
}

export async function runModelParity(options: ModelParityOptions): Promise<ModelParityResult> {
  const tolerance = options.tolerance ?? 1e-3;
  const backend = await asBackend(options.backend);
  const reference = await asBackend(options.reference ?? 'cpu');
  const schedules = options.schedules ?? DEFAULT_MODEL_PARITY_SCHEDULES;
  if (options.models.length === 0) throw new PumerError('VALUE', 'runModelParity: no models given');
  const cases: ModelParityCase[] = [];
  for (const m of options.models) {
    let loaded: LoadedVilt;
    try {
      loaded = typeof m === 'string' ? loadVilt(m) : m;
    } catch (err) {
      const name = typeof m === 'string' ? m : 'model';
      cases.push({
        name,
        model: name,
        schedule: '-',
        passed: false,
        maxAbsLogitDiff: Number.NaN,
        reason: (err as Error).message,
      });
      continue;
    }
    const mName = modelName(m, loaded);
    let inputs: ViltInputs;
    try {
      if (typeof options.examples === 'object') inputs = options.examples;
      else {
        if (!options.data)
          throw new PumerError(
            'VALUE',
            'runModelParity: pass `data` (an eval.jsonl) or a prepared `examples` batch',
          );
        inputs = evalBatch(loaded, options.data, options.examples ?? 8);
      }
    } catch (err) {
      cases.push({
        name: mName,
        model: mName,
        schedule: '-',
        passed: false,
        maxAbsLogitDiff: Number.NaN,
        reason: (err as Error).message,
      });
      continue;
    }
    for (const s of schedules) {
      const sName = typeof s === 'string' ? s : s.name;
      if (s === 'model' && !loaded.reduction) continue; // nothing of its own to check
      const name = `${mName} ${sName}`;
      try {
        const numLayers = loaded.config.geometry.numLayers;
        const { config } = resolveSchedule(typeof s === 'string' ? s : s.config, {
          numLayers,
          modelSchedule: loaded.reduction,
        });
        const want = await reference.runVilt(loaded.model, inputs, config);
        const got = await backend.runVilt(loaded.model, inputs, config);
        const { maxAbs, reason } = compareOutputs(got, want, tolerance);
        cases.push({
          name,
          model: mName,
          schedule: sName,
          passed: reason === null,
          maxAbsLogitDiff: maxAbs,
          ...(reason ? { reason } : {}),
        });
      } catch (err) {
        cases.push({
          name,
          model: mName,
          schedule: sName,
          passed: false,
          maxAbsLogitDiff: Number.NaN,
          reason: (err as Error).message,
        });
      }
    }
  }
  const passed = cases.filter((c) => c.passed).length;
  return {
    cases,
    passed,
    failed: cases.length - passed,
    backend: backend.info(),
    reference: reference.info(),
  };
}
