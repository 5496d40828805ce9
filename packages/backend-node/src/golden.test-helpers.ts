import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Backend,
  type BlockWeights,
  type FloatTensor,
  floatTensor,
  reductionConfigFromReference,
} from '@pumer/core';

/** Test-only reader of the golden vectors (DESIGN.md §2) and a runner of one case through a Backend. */

interface GoldenTensor {
  dtype: 'float32' | 'int64';
  shape: number[];
  data: number[];
}
export interface GoldenCase {
  kind: 'tome_merge' | 'tip_merge' | 'vilt_block';
  name: string;
  params: Record<string, unknown>;
  inputs: Record<string, GoldenTensor>;
  outputs: Record<string, GoldenTensor | number>;
  weights?: Record<string, GoldenTensor>;
}

export const GOLDEN_DIR = process.env['PUMER_GOLDEN_DIR'] ?? '/work/shared/golden';

export function loadGolden(dir = GOLDEN_DIR): GoldenCase[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as GoldenCase);
}

const ft = (t: GoldenTensor): FloatTensor => floatTensor(t.data, t.shape);

function rows(t: GoldenTensor, from: number, to: number): FloatTensor {
  const cols = t.shape.length === 2 ? t.shape[1] : 1;
  const data = t.data.slice(from * cols, to * cols);
  return floatTensor(data, t.shape.length === 2 ? [to - from, cols] : [to - from]);
}

export function goldenBlockWeights(c: GoldenCase): BlockWeights {
  const w = c.weights!;
  const d = Number(c.params['dim']);
  const eps = Number(c.params['layer_norm_eps']);
  const lin = (name: string) => ({
    weight: ft(w[`${name}.weight`]),
    bias: w[`${name}.bias`] ? ft(w[`${name}.bias`]) : null,
  });
  const part = (k: number) => ({
    weight: rows(w['attn.qkv.weight'], k * d, (k + 1) * d),
    bias: w['attn.qkv.bias'] ? rows(w['attn.qkv.bias'], k * d, (k + 1) * d) : null,
  });
  return {
    norm1: { weight: ft(w['norm1.weight']), bias: ft(w['norm1.bias']), eps },
    query: part(0),
    key: part(1),
    value: part(2),
    proj: lin('attn.proj'),
    norm2: { weight: ft(w['norm2.weight']), bias: ft(w['norm2.bias']), eps },
    fc1: lin('mlp.fc1'),
    fc2: lin('mlp.fc2'),
  };
}

/** Largest violation of |a - e| <= atol + rtol |e|, as a multiple of the allowance (<= 1 passes), or Infinity on shape mismatch. */
export function closeness(actual: FloatTensor, expected: GoldenTensor, atol = 1e-4, rtol = 1e-4): number {
  if (actual.shape.join(',') !== expected.shape.join(',')) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const e = expected.data[i];
    worst = Math.max(worst, Math.abs(actual.data[i] - e) / (atol + rtol * Math.abs(e)));
  }
  return worst;
}

/** Runs one golden case; returns the list of failures (empty: pass). */
export async function checkGolden(backend: Backend, c: GoldenCase): Promise<string[]> {
  const fails: string[] = [];
  const check = (label: string, actual: FloatTensor, expected: GoldenTensor | number | undefined) => {
    if (expected === undefined || typeof expected === 'number') return;
    const q = closeness(actual, expected);
    if (!(q <= 1))
      fails.push(
        `${label}: ${q === Infinity ? `shape [${actual.shape}] vs [${expected.shape}]` : `off by ${q.toFixed(2)}x tolerance`}`,
      );
  };
  if (c.kind === 'tome_merge') {
    const size = c.inputs['size'];
    const out = await backend.merger.merge({
      style: 'tome',
      metric: ft(c.inputs['metric']),
      x: ft(c.inputs['x']),
      ...(size ? { size: ft(size) } : {}),
      r: Number(c.params['r']),
      protectFirst: Boolean(c.params['class_token']),
    });
    check('x', out.x, c.outputs['x']);
    check('size', out.size!, c.outputs['size']);
  } else if (c.kind === 'tip_merge') {
    const out = await backend.merger.merge({
      style: 'tip',
      metric: ft(c.inputs['metric']),
      x: ft(c.inputs['x']),
      saliency: ft(c.inputs['text_saliency']),
      r: Number(c.params['r']),
    });
    check('x', out.x, c.outputs['x']);
  } else {
    const textLen = Number(c.params['text_len']);
    const out = await backend.runBlock({
      weights: goldenBlockWeights(c),
      numHeads: Number(c.params['heads']),
      x: ft(c.inputs['x']),
      mask: ft(c.inputs['mask']),
      textLen,
      config: reductionConfigFromReference(c.params, [0]),
      layer: 0,
    });
    check('x', out.x, c.outputs['x']);
    check('mask', out.mask, c.outputs['mask']);
    check('attn', out.attn, c.outputs['attn']);
    if (out.textLen !== c.outputs['text_len'])
      fails.push(`text_len: ${out.textLen} vs ${String(c.outputs['text_len'])}`);
  }
  return fails;
}
