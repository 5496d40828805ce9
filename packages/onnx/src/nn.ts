import { type FloatTensor, type LayerNormWeights, type LinearWeights, SOFT_MASK_EPS } from '@pumer/core';
import { attr, type GraphBuilder } from './builder.js';

/**
 * Transformer pieces as graph fragments. Weights become initializers laid out for the fast path: linear
 * weights pre-transposed to [in, out] so every projection is a plain MatMul / Gemm.
 */

/** W [out, in] -> W^T [in, out], optionally times `scale`. */
export function transposed(w: FloatTensor, scale = 1): Float32Array {
  const [out, inp] = w.shape as [number, number];
  const src = w.data;
  const dst = new Float32Array(out * inp);
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < inp; i++) dst[i * out + o] = src[o * inp + i] * scale;
  }
  return dst;
}

/**
 * y = x W^T + b for x [..., in]. With `rows` (x is 2-D [rows, in]) it is one Gemm with the bias folded in,
 * which saves a pass over the output compared with MatMul + Add, reading W [out, in] as stored (transB): the
 * graph holds the checkpoint's own tensor, no transposed copy of it.
 */
export function linear(g: GraphBuilder, x: string, lw: LinearWeights, hint: string, rows = false): string {
  const [out, inp] = lw.weight.shape as [number, number];
  const bias = lw.bias;
  const b = bias
    ? g.shared(bias, 'raw', () => g.initializer(`${hint}.bias`, 'float32', [out], bias.data))
    : null;
  if (rows) {
    const wRaw = g.shared(lw.weight, 'raw', () =>
      g.initializer(`${hint}.weight`, 'float32', [out, inp], lw.weight.data),
    );
    return g.op('Gemm', b ? [x, wRaw, b] : [x, wRaw], { transB: attr.int(1) });
  }
  const w = g.shared(lw.weight, 'transposed', () =>
    // Derived when the graph is written (not at all when a cached graph is loaded instead).
    g.initializer(`${hint}.weight_t`, 'float32', [inp, out], () => transposed(lw.weight)),
  );
  const y = g.matmul(x, w);
  return b ? g.add(y, b) : y;
}

/** Several linears over the same 2-D input [rows, in] fused into one Gemm (Q|K|V): the concatenated output. */
export function fusedLinear(
  g: GraphBuilder,
  x: string,
  parts: readonly { lw: LinearWeights; scale: number }[],
  hint: string,
): string {
  // Keyed on the first part's weight and the scales: a block's Q|K|V are stored once however many passes read them.
  const tag = `fused:${parts.map((p) => p.scale).join(',')}`;
  let built = { w: '', b: '' };
  const wt = g.shared(parts[0].lw.weight, `${tag}:w`, () => {
    built = fusedWeights(g, parts, hint);
    return built.w;
  });
  const b = g.shared(parts[0].lw.weight, `${tag}:b`, () => built.b);
  // x is 2-D [rows, in]: one Gemm with the bias folded in.
  return g.op('Gemm', [x, wt, b]);
}

/** The concatenated [in, total] weight and [total] bias initializers of a fused linear. */
function fusedWeights(
  g: GraphBuilder,
  parts: readonly { lw: LinearWeights; scale: number }[],
  hint: string,
): { w: string; b: string } {
  const inp = parts[0].lw.weight.shape[1];
  const outs = parts.map((p) => p.lw.weight.shape[0]);
  const total = outs.reduce((a, b) => a + b, 0);
  // The weight is derived when the graph is written (not at all when a cached graph is loaded instead).
  const w = () => {
    const wt = new Float32Array(inp * total);
    let col = 0;
    for (let k = 0; k < parts.length; k++) {
      const { lw, scale } = parts[k];
      const o = outs[k];
      const src = lw.weight.data;
      for (let j = 0; j < o; j++) {
        for (let i = 0; i < inp; i++) wt[i * total + col + j] = src[j * inp + i] * scale;
      }
      col += o;
    }
    return wt;
  };
  const b = new Float32Array(total);
  let col = 0;
  for (let k = 0; k < parts.length; k++) {
    const { lw, scale } = parts[k];
    const o = outs[k];
    if (lw.bias) for (let j = 0; j < o; j++) b[col + j] = lw.bias.data[j] * scale;
    col += o;
  }
  return {
    w: g.initializer(`${hint}.weight_t`, 'float32', [inp, total], w),
    b: g.initializer(`${hint}.bias`, 'float32', [total], b),
  };
}

/**
 * LayerNormalization over the last axis (opset 17 op; ORT has a fused kernel for it). `eps` defaults to the
 * weights' own; METER passes its geometry's (the authors' modules fix it per part, not per checkpoint).
 */
export function layerNorm(
  g: GraphBuilder,
  x: string,
  ln: LayerNormWeights,
  hint: string,
  eps: number = ln.eps,
): string {
  const d = ln.weight.shape[0];
  const scale = g.shared(ln.weight, 'raw', () =>
    g.initializer(`${hint}.weight`, 'float32', [d], ln.weight.data),
  );
  const bias = g.shared(ln.bias, 'raw', () => g.initializer(`${hint}.bias`, 'float32', [d], ln.bias.data));
  return g.op('LayerNormalization', [x, scale, bias], { axis: attr.int(-1), epsilon: attr.float(eps) }, hint);
}

/** Exact GELU: x * 0.5 * (1 + erf(x / sqrt 2)) — ORT fuses this pattern into one Gelu kernel. */
export function gelu(g: GraphBuilder, x: string): string {
  const erf = g.op('Erf', [g.div(x, g.float(Math.SQRT2))]);
  return g.mul(g.mul(x, g.add(erf, g.float(1))), g.float(0.5));
}

/** CLIP's QuickGELU: x * sigmoid(1.702 x). */
export function quickGelu(g: GraphBuilder, x: string): string {
  return g.mul(x, g.op('Sigmoid', [g.mul(x, g.float(1.702))]));
}

/** x / ||x|| over the last axis (ToMe's metric normalisation; no epsilon, like the reference). */
export function l2Normalize(g: GraphBuilder, x: string): string {
  return g.div(x, g.op('ReduceL2', [x], { axes: attr.ints([-1]), keepdims: attr.int(1) }));
}

/**
 * PuMer's soft-masked attention weights (docs/reducers.md, "Soft-mask attention"): e = exp(s - rowmax(s)) * mhat,
 * p = (e + eps/N) / (rowsum(e) + eps). `maskHat` is [B, 1, Q, N] (N keys).
 */
export function softMaskedSoftmax(g: GraphBuilder, s: string, maskHat: string, n: number): string {
  const eps = SOFT_MASK_EPS;
  const e = g.mul(g.op('Exp', [g.sub(s, g.reduce('ReduceMax', s, [-1]))]), maskHat);
  const denom = g.add(g.reduceSum(e, [-1]), g.float(eps));
  return g.div(g.add(e, g.float(eps / n)), denom);
}

/**
 * mhat[b, 0, i, j] = m_j + (1 - m_j) [i == j]: a masked row still sees itself. mask [B, N] -> [B, 1, Q, N] for
 * `queries` Q (default N). With Q != N (METER's cross-attention) query i still sees key i, as in the reference.
 */
export function maskHat(g: GraphBuilder, mask: string, n: number, queries = n): string {
  const mj = g.unsqueeze(mask, [1, 2]); // [B, 1, 1, N]
  const eyeC = g.shared(g, `eye${queries}x${n}`, () => {
    const eye = new Float32Array(queries * n);
    for (let i = 0; i < Math.min(queries, n); i++) eye[i * n + i] = 1;
    return g.initializer('eye', 'float32', [queries, n], eye);
  });
  return g.add(mj, g.mul(g.sub(g.float(1), mj), eyeC));
}
