import type { BlockWeights, LayerPlan, ReductionConfig } from '@pumer/core';
import type { GraphBuilder } from './builder.js';
import { fusedLinear, gelu, layerNorm, linear, maskHat, softMaskedSoftmax } from './nn.js';
import { type BlockTrace, reduceLayer } from './reduce/reduce-layer.js';

export interface BlockState {
  /** Token states [B, N, D]. */
  readonly x: string;
  /** Mask [B, N]: text part possibly fractional, image part ones. */
  readonly mask: string;
  /** mhat [B, 1, N, N] for this mask; rebuilt only after a reduction changes the mask. */
  readonly maskHat: string;
}

export interface BlockOutput extends BlockState {
  /** Attention probabilities before reduction [B, H, N, N]. */
  readonly attn: string;
  readonly trace: BlockTrace;
}

/**
 * One pre-norm ViLT block with PuMer's reduce step between the attention and the MLP, as in the reference's
 * Block.forward. Counts come from `plan` (core's planLayer, docs/reducers.md "The layer plan"): nothing is
 * recomputed here.
 */
export function transformerBlock(
  g: GraphBuilder,
  state: BlockState,
  w: BlockWeights,
  numHeads: number,
  plan: LayerPlan,
  config: ReductionConfig | null,
  hint: string,
): BlockOutput {
  const d = w.query.weight.shape[0];
  const hd = d / numHeads;
  const n = plan.textIn + plan.imageIn;
  const scale = 1 / Math.sqrt(hd);

  // Token rows [B*N, D] for the projections (Gemm with bias); [B, N, D] for attention and the reduce step.
  const rows = (t: string) => g.reshape(t, [-1, d]);
  // Attention: one fused Q|K|V projection; the 1/sqrt(hd) scale is folded into the query weights.
  const xRows = rows(state.x);
  const h = layerNorm(g, xRows, w.norm1, `${hint}.norm1`);
  const qkv = fusedLinear(
    g,
    h,
    [
      { lw: w.query, scale },
      { lw: w.key, scale: 1 },
      { lw: w.value, scale: 1 },
    ],
    `${hint}.qkv`,
  ); // [B*N, 3D]
  const [q, k, v] = g.split(qkv, 1, [d, d, d]).map((t) => g.reshape(t, [-1, n, numHeads, hd])); // [B, N, H, hd]
  const scores = g.matmul(g.transpose(q, [0, 2, 1, 3]), g.transpose(k, [0, 2, 3, 1])); // [B, H, N, N]
  const attn = softMaskedSoftmax(g, scores, state.maskHat, n);
  const ctx = rows(g.transpose(g.matmul(attn, g.transpose(v, [0, 2, 1, 3])), [0, 2, 1, 3])); // [B*N, D]
  let x = g.reshape(g.add(xRows, linear(g, ctx, w.proj, `${hint}.proj`, true)), [-1, n, d]); // [B, N, D]
  let mask = state.mask;
  let hat = state.maskHat;
  let trace: BlockTrace = {};

  const outerScope = g.scope;
  // Reduce-step nodes get their own name scope, so a profile separates reducer time from the block's.
  g.scope = outerScope ? `${outerScope}/reduce` : 'reduce';
  if (plan.kind !== 'none') {
    ({ x, mask, trace } = reduceLayer(g, plan, config, { x, mask, attn, q, k, scale, d, hd }));
    hat = maskHat(g, mask, plan.textOut + plan.imageOut);
  }
  g.scope = outerScope;

  // MLP on token rows.
  const nOut = plan.textOut + plan.imageOut;
  const yRows = rows(x);
  const hidden = gelu(
    g,
    linear(g, layerNorm(g, yRows, w.norm2, `${hint}.norm2`), w.fc1, `${hint}.fc1`, true),
  );
  x = g.reshape(g.add(yRows, linear(g, hidden, w.fc2, `${hint}.fc2`, true)), [-1, nOut, d]);
  return { x, mask, maskHat: hat, attn, trace };
}
