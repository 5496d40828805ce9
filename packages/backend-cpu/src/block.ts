import { type BlockArgs, type BlockResult, checkBlockArgs, planLayer } from '@pumer/core';
import { toFloatTensor } from './ops/arrays.js';
import { softMaskAttentionArrays } from './ops/attention.js';
import { geluInPlace } from './ops/gelu.js';
import { layerNormRows } from './ops/layer-norm.js';
import { linearRows } from './ops/linear.js';
import { reduceLayer } from './reduce/reduce-layer.js';

/**
 * One reduce-capable ViLT block, following the reference's Block.forward: pre-norm soft-mask attention,
 * residual, the reduce step the layer plan asks for (PuMer or the ToMe baseline), then pre-norm MLP with the
 * exact-erf GELU and a residual. Intermediates are float64; outputs float32.
 */
export function runBlockSync(args: BlockArgs): BlockResult {
  const { B, N, D, M, numHeads, textLen: T, layer, config } = checkBlockArgs(args);
  const plan = planLayer(config, layer, T, N - T);
  const w = args.weights;
  const rows = B * N;

  const h = layerNormRows(args.x.data, rows, D, w.norm1);
  const attn = softMaskAttentionArrays(h, B, N, D, numHeads, w, args.mask.data);
  const x1 = attn.out;
  for (let i = 0; i < x1.length; i++) x1[i] += args.x.data[i]!;

  const reduced = reduceLayer(
    plan,
    config,
    layer,
    { B, D, numHeads, x: x1, mask: Float64Array.from(args.mask.data) },
    attn,
  );

  const n = reduced.n;
  const xr = reduced.x;
  const h2 = layerNormRows(xr, B * n, D, w.norm2);
  const hidden = linearRows(h2, B * n, D, w.fc1);
  geluInPlace(hidden);
  const out = linearRows(hidden, B * n, M, w.fc2);
  for (let i = 0; i < out.length; i++) out[i] += xr[i]!;

  return {
    x: toFloatTensor(out, [B, n, D]),
    mask: toFloatTensor(reduced.mask, [B, n]),
    textLen: reduced.textLen,
    attn: toFloatTensor(attn.probs, [B, numHeads, N, N]),
    trace: reduced.trace,
  };
}
