import type { BlockWeights, MeterModel } from '@pumer/core';
import { attr, type GraphBuilder } from '../builder.js';
import { fusedLinear, layerNorm, linear, quickGelu } from '../nn.js';

/**
 * METER's CLIP ViT image encoder as graph values, twin of @pumer/backend-cpu's meter/image-encoder.ts
 * (docs/meter.md, "Image encoder"): pixels [B, 3, S, S] -> ln_post of every token [B, (S/p)^2 + 1, W] (before
 * METER's cross_modal_image_transform).
 */

/** A CLIP residual block (pre-LN): x += out_proj(MHA(ln_1 x)); x += c_proj(QuickGELU(c_fc(ln_2 x))); no mask. */
function clipBlock(
  g: GraphBuilder,
  w: BlockWeights,
  x: string,
  n: number,
  numHeads: number,
  eps: number,
  hint: string,
): string {
  const d = w.query.weight.shape[0];
  const hd = d / numHeads;
  const scale = 1 / Math.sqrt(hd);
  const rows = g.reshape(x, [-1, d]);
  const qkv = fusedLinear(
    g,
    layerNorm(g, rows, w.norm1, `${hint}.ln_1`, eps),
    [
      { lw: w.query, scale },
      { lw: w.key, scale: 1 },
      { lw: w.value, scale: 1 },
    ],
    `${hint}.qkv`,
  );
  const [q, k, v] = g
    .split(qkv, 1, [d, d, d])
    .map((t) => g.transpose(g.reshape(t, [-1, n, numHeads, hd]), [0, 2, 1, 3])) as [string, string, string];
  const probs = g.op('Softmax', [g.matmul(q, g.transpose(k, [0, 1, 3, 2]))], { axis: attr.int(-1) });
  const ctx = g.reshape(g.transpose(g.matmul(probs, v), [0, 2, 1, 3]), [-1, d]);
  const a = g.add(rows, linear(g, ctx, w.proj, `${hint}.out_proj`, true));
  const hidden = quickGelu(
    g,
    linear(g, layerNorm(g, a, w.norm2, `${hint}.ln_2`, eps), w.fc1, `${hint}.c_fc`, true),
  );
  return g.reshape(g.add(a, linear(g, hidden, w.fc2, `${hint}.c_proj`, true)), [-1, n, d]);
}

/**
 * conv1 (no bias, kernel = stride = patch) -> patches in row-major order, the class embedding in front, the
 * positional embedding, ln_pre, the residual blocks, ln_post on every token.
 */
export function imageEncoder(g: GraphBuilder, model: MeterModel, pixels: string): string {
  const geo = model.geometry.image;
  const w = model.weights.imageEncoder;
  const width = geo.width;
  const p = geo.patchSize;
  const grid = geo.imageSize / p;
  const n = grid * grid;
  const tokens = n + 1;
  const eps = geo.layerNormEps;
  const proj = w.patchProjection;
  const conv = g.op(
    'Conv',
    [
      pixels,
      g.shared(proj, 'raw', () => g.initializer('vit.conv1.weight', 'float32', [...proj.shape], proj.data)),
    ],
    { kernel_shape: attr.ints([p, p]), strides: attr.ints([p, p]) },
  ); // [B, W, g, g]
  const patches = g.transpose(g.reshape(conv, [0, width, n]), [0, 2, 1]); // [B, g*g, W]
  // Row 0: class embedding + position 0; the others: their position (baked into one constant).
  const embed = g.shared(w, 'class_position', () => {
    const c = Float32Array.from(w.positionEmbeddings.data);
    for (let k = 0; k < width; k++) c[k] += w.classEmbedding.data[k];
    return g.initializer('vit.class_position', 'float32', [tokens, width], c);
  });
  let x = layerNorm(g, g.add(g.pad(patches, 3, 1, 1, 0, 0), embed), w.preNorm, 'vit.ln_pre', eps);
  w.blocks.forEach((block, i) => {
    const hint = `vit.block${i}`;
    x = g.within(hint, () => clipBlock(g, block, x, tokens, geo.numHeads, eps, hint));
  });
  return layerNorm(g, x, w.postNorm, 'vit.ln_post', eps);
}
