import {
  type BlockWeights,
  type LayerPlan,
  type ReductionConfig,
  saliencyRule,
  trainingFreeSaliencyRule,
} from '@pumer/core';
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
 * The mean over heads of projection rows [B*N, H*hd], as [B, N, hd]: one product with a [H*hd, hd] matrix of
 * stacked identities over H. onnxruntime's ReduceMean over the head axis of [B, N, H, hd] strides through
 * memory: it took 7% of a block's time on the tiny ShapesVQA model, the product a fraction of that.
 */
function headMean(g: GraphBuilder, rows: string, n: number, numHeads: number, hd: number): string {
  const d = numHeads * hd;
  // One copy of the matrix per graph, whichever layers and passes read it.
  const avg = g.shared(headMean, `${numHeads}x${hd}`, () =>
    g.floats(
      Array.from({ length: d * hd }, (_, k) => (Math.floor(k / hd) % hd === k % hd ? 1 / numHeads : 0)),
      [d, hd],
    ),
  );
  return g.reshape(g.matmul(rows, avg), [-1, n, hd]);
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
  const qkvRows = g.split(qkv, 1, [d, d, d]); // 3 × [B*N, D]
  const [q, k, v] = qkvRows.map((t) => g.reshape(t, [-1, n, numHeads, hd])); // [B, N, H, hd]
  // The saliency the reduce step reads (training-free mode reads every head: core's trainingFreeSaliencyRule).
  const rule =
    plan.kind === 'pumer' && config
      ? config.trainingFree
        ? trainingFreeSaliencyRule(saliencyRule(config.saliency))
        : saliencyRule(config.saliency)
      : null;
  // What the reduce step reads of the keys and queries (their head means) is taken before the attention, so
  // the [B, N, H, hd] keys (and queries) die with the attention product as in an unreduced layer.
  const reduceScope = g.scope ? `${g.scope}/reduce` : 'reduce';
  const kbar =
    plan.kind === 'none' ? undefined : g.within(reduceScope, () => headMean(g, qkvRows[1]!, n, numHeads, hd));
  const qbar =
    rule?.textSide === 'queries'
      ? g.within(reduceScope, () => headMean(g, qkvRows[0]!, n, numHeads, hd))
      : undefined;
  const scores = g.matmul(g.transpose(q, [0, 2, 1, 3]), g.transpose(k, [0, 2, 3, 1])); // [B, H, N, N]
  const attn = softMaskedSoftmax(g, scores, state.maskHat, n);
  // A reduce step that reads attention needs only the text rows' attention to the image tokens: sliced before
  // the context product, so the [B, H, N, N] probabilities are freed by that product instead of living on
  // through the projection into the reduce step (docs/benchmark.md, "Memory").
  // Head 0 first when the rule reads only it (its slice is then all saliencyScores takes).
  const textToImage =
    rule?.source === 'attention'
      ? g.within(reduceScope, () => {
          const heads = rule.heads === 'first' ? g.slice(attn, 1, 0, 1) : attn;
          return g.slice(g.slice(heads, 2, 0, plan.textIn), 3, plan.textIn, n); // [B, H or 1, T, I]
        })
      : undefined;
  const ctx = rows(g.transpose(g.matmul(attn, g.transpose(v, [0, 2, 1, 3])), [0, 2, 1, 3])); // [B*N, D]
  let x = g.reshape(g.add(xRows, linear(g, ctx, w.proj, `${hint}.proj`, true)), [-1, n, d]); // [B, N, D]
  let mask = state.mask;
  let hat = state.maskHat;
  let trace: BlockTrace = {};

  const outerScope = g.scope;
  // Reduce-step nodes get their own name scope, so a profile separates reducer time from the block's.
  g.scope = outerScope ? `${outerScope}/reduce` : 'reduce';
  if (plan.kind !== 'none') {
    ({ x, mask, trace } = reduceLayer(g, plan, config, {
      x,
      mask,
      attn,
      textToImage,
      q,
      k,
      kbar,
      qbar,
      scale,
      d,
      hd,
    }));
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
