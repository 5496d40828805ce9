import {
  type BlockArgs,
  type BlockWeights,
  type FloatTensor,
  floatTensor,
  type LayerNormWeights,
  type LinearWeights,
  type MergeArgs,
  PumerError,
  reductionConfigFromReference,
} from '@pumer/core';
import type { GoldenCase, GoldenTensor } from './format.js';

/** A golden tensor as a float32 tensor (int64 masks become 0.0/1.0). */
export function goldenToFloat(t: GoldenTensor): FloatTensor {
  return floatTensor(Float32Array.from(t.data), t.shape);
}

function bad(message: string): never {
  throw new PumerError('GOLDEN', message);
}

function intParam(c: GoldenCase, key: string, min: number): number {
  const v = c.params[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    bad(`params.${key} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return v;
}

/** The Merger call a tome_merge / tip_merge case describes. */
export function mergeArgsFromGolden(c: GoldenCase): MergeArgs {
  const x = goldenToFloat(c.inputs['x']!);
  const metric = goldenToFloat(c.inputs['metric']!);
  const r = intParam(c, 'r', 0);
  if (c.kind === 'tome_merge') {
    const cls = c.params['class_token'];
    if (typeof cls !== 'boolean') bad(`params.class_token must be a boolean, got ${JSON.stringify(cls)}`);
    const size = c.inputs['size'] ? goldenToFloat(c.inputs['size']) : undefined;
    return { style: 'tome', x, metric, size, r, protectFirst: cls };
  }
  if (c.kind === 'tip_merge') {
    const mode = c.params['mode'] ?? 'sum';
    if (mode !== 'sum')
      bad(`params.mode ${JSON.stringify(mode)} is not supported (PuMer's tip merge sums: "sum")`);
    return { style: 'tip', x, metric, saliency: goldenToFloat(c.inputs['text_saliency']!), r };
  }
  bad(`${c.kind} is not a merge case`);
}

/**
 * The block call a vilt_block case describes: timm names mapped onto core's BlockWeights (the fused
 * `attn.qkv` [3D, D] split into query | key | value rows), LayerNorm eps and heads from params, the
 * reference parameters read by core's `reductionConfigFromReference` with layer 0 as the reduce layer.
 */
export function blockArgsFromGolden(c: GoldenCase): BlockArgs {
  const x = goldenToFloat(c.inputs['x']!);
  if (x.shape.length !== 3) bad(`inputs.x must be [B, N, D], got [${x.shape.join(', ')}]`);
  const D = x.shape[2]!;
  const eps = c.params['layer_norm_eps'];
  if (typeof eps !== 'number' || !(eps >= 0))
    bad(`params.layer_norm_eps must be a number >= 0, got ${JSON.stringify(eps)}`);
  const w = c.weights;
  const ln = (prefix: string): LayerNormWeights => ({
    weight: goldenToFloat(w[`${prefix}.weight`]!),
    bias: goldenToFloat(w[`${prefix}.bias`]!),
    eps,
  });
  const lin = (prefix: string): LinearWeights => ({
    weight: goldenToFloat(w[`${prefix}.weight`]!),
    bias: w[`${prefix}.bias`] ? goldenToFloat(w[`${prefix}.bias`]!) : null,
  });
  const qkvW = w['attn.qkv.weight']!;
  if (qkvW.shape.length !== 2 || qkvW.shape[0] !== 3 * D || qkvW.shape[1] !== D) {
    bad(`weights.attn.qkv.weight must be [${3 * D}, ${D}] (q | k | v rows), got [${qkvW.shape.join(', ')}]`);
  }
  const qkvB = w['attn.qkv.bias'];
  if (qkvB && (qkvB.shape.length !== 1 || qkvB.shape[0] !== 3 * D)) {
    bad(`weights.attn.qkv.bias must be [${3 * D}], got [${qkvB.shape.join(', ')}]`);
  }
  const part = (i: number): LinearWeights => ({
    weight: floatTensor(Float32Array.from(qkvW.data.slice(i * D * D, (i + 1) * D * D)), [D, D]),
    bias: qkvB ? floatTensor(Float32Array.from(qkvB.data.slice(i * D, (i + 1) * D)), [D]) : null,
  });
  const weights: BlockWeights = {
    norm1: ln('norm1'),
    query: part(0),
    key: part(1),
    value: part(2),
    proj: lin('attn.proj'),
    norm2: ln('norm2'),
    fc1: lin('mlp.fc1'),
    fc2: lin('mlp.fc2'),
  };
  return {
    weights,
    numHeads: intParam(c, 'heads', 1),
    x,
    mask: goldenToFloat(c.inputs['mask']!),
    textLen: intParam(c, 'text_len', 0),
    config: reductionConfigFromReference(c.params as Record<string, unknown>, [0]),
    layer: 0,
  };
}
