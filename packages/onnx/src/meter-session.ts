import {
  type CoAttentionStepArgs,
  type CoAttentionStepResult,
  type CoAttentionStepWeights,
  checkCoAttentionStepArgs,
  checkMeterInputs,
  checkMeterModel,
  type MeterInputs,
  type MeterModel,
  type MeterOutputs,
  type ReductionConfig,
  validateMeterReductionConfig,
} from '@pumer/core';
import type { GraphBuilder } from './builder.js';
import { buildCoAttentionStepGraph, buildMeterGraph, type MeterGraphStep } from './meter/meter.js';
import { modelFingerprint } from './model-fingerprint.js';
import type { GraphKind, GraphRuntime, RuntimeFeeds, RuntimeOutputs, RuntimeSession } from './ort-backend.js';
import type { TraceOutputs } from './standalone.js';
import { layerTrace, readFloat } from './trace-outputs.js';
import { scheduleKey } from './vilt.js';

/**
 * METER on an onnxruntime JS runtime (docs/meter.md): the Backend contract's `runCoAttentionStep` and `runMeter`
 * for OrtGraphBackend, which delegates here. Single steps compile per (weights, heads, eps, plan); whole models
 * per (model content, text length, schedule), at most `capacity` of them (least recently used dropped).
 */

/** What MeterSessions borrows from its backend: the runtime, and its compile and run (errors as BackendErrors). */
export interface MeterSessionHost<S extends RuntimeSession> {
  readonly runtime: GraphRuntime<S>;
  compile(graph: GraphBuilder, label: string, kind: GraphKind): Promise<S>;
  run(session: S, feeds: RuntimeFeeds): Promise<RuntimeOutputs>;
}

/** A compiled whole METER: its session and, per image pass and step, the plan and its trace outputs. */
export interface CompiledMeter<S extends RuntimeSession = RuntimeSession> {
  readonly session: S;
  readonly passes: readonly (readonly MeterGraphStep[])[];
}

export class MeterSessions<S extends RuntimeSession> {
  private readonly steps = new WeakMap<
    CoAttentionStepWeights,
    Map<string, Promise<{ s: S; trace: TraceOutputs }>>
  >();
  private readonly stepSessions = new Set<Promise<S>>();
  private readonly models = new Map<string, Promise<CompiledMeter<S>>>();
  private readonly checkedModels = new WeakSet<MeterModel>();

  constructor(
    private readonly host: MeterSessionHost<S>,
    private readonly capacity = 2,
  ) {}

  private float(data: Float32Array, dims: readonly number[]) {
    return this.host.runtime.tensor('float32', data, dims);
  }

  async runCoAttentionStep(args: CoAttentionStepArgs): Promise<CoAttentionStepResult> {
    const c = checkCoAttentionStepArgs(args);
    const { plan } = c;
    let perWeights = this.steps.get(args.weights);
    if (!perWeights) {
      perWeights = new Map();
      this.steps.set(args.weights, perWeights);
    }
    const key = `${c.numHeads}|${c.layerNormEps}|${JSON.stringify(plan)}`;
    let hit = perWeights.get(key);
    if (!hit) {
      const built = buildCoAttentionStepGraph({
        weights: args.weights,
        numHeads: c.numHeads,
        layerNormEps: c.layerNormEps,
        plan,
      });
      hit = this.host
        .compile(built.graph, `meter-step|${key}`, 'block')
        .then((s) => ({ s, trace: built.trace }));
      const map = perWeights;
      hit.catch(() => map.delete(key));
      perWeights.set(key, hit);
      this.stepSessions.add(hit.then((h) => h.s));
    }
    const { s, trace } = await hit;
    const out = await this.host.run(s, {
      text: this.float(args.text.data, args.text.shape),
      text_mask: this.float(args.textMask.data, args.textMask.shape),
      image: this.float(args.image.data, args.image.shape),
      image_mask: this.float(args.imageMask.data, args.imageMask.shape),
    });
    return {
      text: readFloat(out['text_out'], 'text_out'),
      textMask: readFloat(out['text_mask_out'], 'text_mask_out'),
      imageReduced: readFloat(out['image_reduced'], 'image_reduced'),
      imageMask: readFloat(out['image_mask_out'], 'image_mask_out'),
      image: readFloat(out['image_out'], 'image_out'),
      textToImageAttn: readFloat(out['txt2img_attn'], 'txt2img_attn'),
      imageToTextAttn: readFloat(out['img2txt_attn'], 'img2txt_attn'),
      plan,
      trace: layerTrace(c.step, plan, trace, out),
    };
  }

  /**
   * Cache key of a whole-model graph: the model's content, its head, the text length and what of the schedule
   * METER reads (steps and ratios; the saliency method and merge style are ignored, docs/meter.md "Quirks we
   * reproduce", so schedules differing only there share a graph).
   */
  static key(model: MeterModel, textLen: number, config: ReductionConfig | null): string {
    const schedule = config
      ? scheduleKey({ ...config, saliency: 'mean_head', mergeStyle: 'tome' })
      : 'unreduced';
    return `${modelFingerprint(model)}|${model.weights.head.kind}|T${textLen}|${schedule}`;
  }

  /**
   * The compiled whole METER for this text length and (validated) schedule, built on first use. A failed compile
   * is not kept.
   */
  meterSession(
    model: MeterModel,
    textLen: number,
    config: ReductionConfig | null,
  ): Promise<CompiledMeter<S>> {
    const key = MeterSessions.key(model, textLen, config);
    let hit = this.models.get(key);
    if (hit === undefined) {
      hit = Promise.resolve().then(async () => {
        const built = buildMeterGraph(model, textLen, config);
        const session = await this.host.compile(built.graph, `meter|${model.id}|${key}`, 'meter');
        return { session, passes: built.passes };
      });
      const made = hit;
      made.catch(() => {
        if (this.models.get(key) === made) this.models.delete(key);
      });
      while (this.models.size >= this.capacity) {
        const oldest = this.models.keys().next().value!;
        void this.models
          .get(oldest)!
          .then((c) => c.session.release())
          .catch(() => undefined);
        this.models.delete(oldest);
      }
    } else {
      this.models.delete(key);
    }
    this.models.set(key, hit);
    return hit;
  }

  async runMeter(
    model: MeterModel,
    inputs: MeterInputs,
    config: ReductionConfig | null,
  ): Promise<MeterOutputs> {
    if (!this.checkedModels.has(model)) {
      checkMeterModel(model);
      this.checkedModels.add(model);
    }
    const cfg = config ? validateMeterReductionConfig(config, model.geometry.numSteps) : null;
    const { B, T } = checkMeterInputs(model, inputs, cfg);
    const compiled = await this.meterSession(model, T, cfg);
    const out = await this.host.run(compiled.session, {
      input_ids: this.host.runtime.tensor('int32', inputs.inputIds.data, [B, T]),
      attention_mask: this.float(Float32Array.from(inputs.attentionMask.data), [B, T]),
      pixel_values: this.float(inputs.pixelValues.data, inputs.pixelValues.shape),
    });
    const passes = compiled.passes.map((steps) => steps.map((s, i) => layerTrace(i, s.plan, s.trace, out)));
    return {
      logits: readFloat(out['logits'], 'logits'),
      clsFeats: readFloat(out['cls_feats'], 'cls_feats'),
      steps: passes[0]!,
      ...(passes.length > 1 ? { passes } : {}),
    };
  }

  /** Every session compiled so far (for release). */
  sessions(): Promise<S>[] {
    const all = [...this.stepSessions, ...[...this.models.values()].map((p) => p.then((c) => c.session))];
    this.stepSessions.clear();
    this.models.clear();
    return all;
  }
}
