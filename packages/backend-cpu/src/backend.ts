import {
  type Backend,
  type BackendInfo,
  type CoAttentionStepArgs,
  type CoAttentionStepResult,
  checkCoAttentionStepArgs,
  checkMergeArgs,
  checkPruneArgs,
  checkSaliencyArgs,
  type FloatTensor,
  intTensor,
  type MergeArgs,
  type MergeResult,
  type MeterInputs,
  type MeterModel,
  type PruneResult,
  type ReductionConfig,
  type Saliency,
  type SaliencyInputs,
  type ViltInputs,
  type ViltModel,
} from '@pumer/core';
import { runBlockSync } from './block.js';
import { coAttentionStep } from './meter/co-attention-step.js';
import { meterForward } from './meter/meter-forward.js';
import { toFloatTensor } from './ops/arrays.js';
import { mergeTokens } from './reduce/merge.js';
import { selectTop } from './reduce/prune.js';
import { saliencyScores } from './reduce/saliency.js';
import { viltForward } from './vilt-forward.js';

/** Pruner.saliency, synchronously: core's checks, then the kernel; [B, I] in float32. */
export function saliencySync(method: Saliency, inputs: SaliencyInputs): FloatTensor {
  const { rule, B, N, T, H, C } = checkSaliencyArgs(method, inputs);
  const scores = saliencyScores(rule, {
    B,
    N,
    T,
    textMask: inputs.textMask.data,
    attn: inputs.attn?.data,
    numHeads: H ?? undefined,
    kbar: inputs.kbar?.data,
    qbar: inputs.qbar?.data,
    headDim: C ?? undefined,
  });
  return toFloatTensor(scores, [B, N - T]);
}

/** Pruner.prune, synchronously. */
export function pruneSync(scores: FloatTensor, keep: number): PruneResult {
  const c = checkPruneArgs(scores, keep);
  const top = selectTop(scores.data, c.B, c.I, c.keep);
  return { keepIdx: intTensor(top.idx, [c.B, c.keep]), scores: toFloatTensor(top.values, [c.B, c.keep]) };
}

/** Merger.merge, synchronously: core's checks (style, inputs, the clamp of r), then the kernel. */
export function mergeSync(args: MergeArgs): MergeResult {
  const c = checkMergeArgs(args);
  const { B, n, D } = c;
  const merged = mergeTokens(c, {
    B,
    n,
    D,
    x: args.x.data,
    metric: c.rule.reads.metric ? args.metric!.data : null,
    C: c.C ?? 0,
    saliency: c.rule.reads.saliency ? args.saliency!.data : null,
    size: c.rule.reads.size ? (args.size?.data ?? null) : null,
  });
  const nOut = merged.map.nOut;
  return {
    x: toFloatTensor(merged.x, [B, nOut, D]),
    size: merged.size ? toFloatTensor(merged.size, [B, nOut, 1]) : null,
    dst: intTensor(merged.map.dst, [B, n]),
    r: merged.map.r,
  };
}

/** Backend.runCoAttentionStep, synchronously: core's checks and plan, then the step; outputs in float32. */
export function runCoAttentionStepSync(args: CoAttentionStepArgs): CoAttentionStepResult {
  const c = checkCoAttentionStepArgs(args);
  const { B, D, numHeads, plan } = c;
  const out = coAttentionStep({
    dims: { B, D, numHeads, eps: c.layerNormEps },
    weights: args.weights,
    plan,
    step: c.step,
    text: args.text.data,
    textMask: args.textMask.data,
    image: args.image.data,
    imageMask: args.imageMask.data,
  });
  const tOut = plan.textOut;
  const iOut = plan.imageOut;
  return {
    text: toFloatTensor(out.text, [B, tOut, D]),
    textMask: toFloatTensor(out.textMask, [B, tOut]),
    imageReduced: toFloatTensor(out.imageReduced, [B, iOut, D]),
    imageMask: toFloatTensor(out.imageMask, [B, iOut]),
    image: toFloatTensor(out.image, [B, iOut, D]),
    textToImageAttn: toFloatTensor(out.textToImageAttn, [B, numHeads, c.T, c.I]),
    imageToTextAttn: toFloatTensor(out.imageToTextAttn, [B, numHeads, iOut, tOut]),
    plan,
    trace: out.trace,
  };
}

/** Runs a synchronous op as a promise, so a thrown error becomes a rejection (the contract is async). */
function later<T>(fn: () => T): Promise<T> {
  return Promise.resolve().then(fn);
}

/** The CPU reference backend: every op in plain TypeScript, in-process. */
export function createCpuBackend(): Backend {
  const info: BackendInfo = Object.freeze({ name: 'cpu', provider: 'typescript' });
  return {
    name: 'cpu',
    info: () => info,
    pruner: {
      saliency: (method, inputs) => later(() => saliencySync(method, inputs)),
      prune: (scores, keep) => later(() => pruneSync(scores, keep)),
    },
    merger: {
      merge: (args) => later(() => mergeSync(args)),
    },
    runBlock: (args) => later(() => runBlockSync(args)),
    runVilt: (model: ViltModel, inputs: ViltInputs, config: ReductionConfig | null) =>
      later(() => viltForward(model, inputs, config)),
    runCoAttentionStep: (args) => later(() => runCoAttentionStepSync(args)),
    runMeter: (model: MeterModel, inputs: MeterInputs, config: ReductionConfig | null) =>
      later(() => meterForward(model, inputs, config)),
    dispose: async () => {},
  };
}
