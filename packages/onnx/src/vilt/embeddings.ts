import { interpolatePositionEmbeddings, type ViltModel } from '@pumer/core';
import { attr, type GraphBuilder } from '../builder.js';
import { oneHotRows, range } from '../reduce/rank.js';

/** The patch grid of a graph's pixels and, for padded batches, the patch tokens kept per image. */
export interface ImageGrid {
  readonly gridH: number;
  readonly gridW: number;
  /** Set: the graph reads a pixel mask and keeps this many patch tokens per image (core's `checkImageGrids`). */
  readonly imagePatches?: number;
}

/** The image stream as graph values: rows [B, 1 + L, D] and, with a pixel mask, their 0/1 mask [B, 1 + L]. */
export interface ImageEmbedding {
  readonly x: string;
  readonly mask: string | null;
  /** 1 + L. */
  readonly tokens: number;
}

/**
 * The image embedding, twin of @pumer/backend-cpu's `embedImage` (Hugging Face's ViltEmbeddings.visual_embed):
 * Conv patch projection, the image [CLS] first, then every image's valid patches in row-major order with the
 * position embeddings resized (bilinear, align_corners=True) to its own valid grid, + modality row
 * `modalityRow` (1; NLVR2's second image 2).
 *
 * Without `pixelMask` every patch is valid and the resized positions are baked into an initializer. With it
 * ([B, H, W] float 0/1), the valid grid of each image is read in the graph as the reference reads it (the mask
 * at each patch's top-left pixel; h down the first column, w along the first row; core has checked it is that
 * rectangle), the resize is a product with per-image bilinear weight matrices, and the patches are gathered by
 * a 0/1 selection matrix: valid ones first, then the first non-valid ones (mask 0, no position) up to
 * `imagePatches`. No TopK, no run-time int64 (see reduce/rank.ts).
 */
export function embedImage(
  g: GraphBuilder,
  model: ViltModel,
  grid: ImageGrid,
  pixels: string,
  pixelMask: string | null,
  modalityRow = 1,
): ImageEmbedding {
  const geo = model.geometry;
  const w = model.weights;
  const d = geo.hiddenSize;
  const p = geo.patchSize;
  const { gridH: gh, gridW: gw } = grid;
  const n = gh * gw;
  const { weight, bias } = w.patchProjection;
  const conv = g.op(
    'Conv',
    [
      pixels,
      g.shared(weight, 'raw', () => g.initializer('patch.weight', 'float32', [...weight.shape], weight.data)),
      ...(bias ? [g.shared(bias, 'raw', () => g.initializer('patch.bias', 'float32', [d], bias.data))] : []),
    ],
    { kernel_shape: attr.ints([p, p]), strides: attr.ints([p, p]) },
  ); // [B, D, h, w]
  const patchRows = g.transpose(g.reshape(conv, [0, d, n]), [0, 2, 1]); // [B, h*w, D]
  const modality = w.modalityEmbeddings.data.subarray(modalityRow * d, (modalityRow + 1) * d);

  if (pixelMask === null) {
    // [CLS] (a zero row padded in front) plus position + the modality row, baked for this grid.
    const tokens = 1 + n;
    const pos = interpolatePositionEmbeddings(w.imagePositionEmbeddings, gh, gw).data; // [1 + h*w, D]
    const imageConst = new Float32Array(tokens * d);
    for (let i = 0; i < tokens; i++) {
      for (let k = 0; k < d; k++) {
        imageConst[i * d + k] = pos[i * d + k] + modality[k] + (i === 0 ? w.clsToken.data[k] : 0);
      }
    }
    const x = g.add(
      g.pad(patchRows, 3, 1, 1, 0, 0),
      g.initializer('image_pos_cls_type', 'float32', [tokens, d], imageConst),
    );
    return { x, mask: null, tokens };
  }

  const patches = grid.imagePatches ?? n;
  const tokens = 1 + patches;
  // The mask at each patch's top-left pixel: [B, gh, gw].
  const patchMask = g.reshape(g.slice(g.slice(g.reshape(pixelMask, [0, gh, p, gw, p]), 2, 0, 1), 4, 0, 1), [
    0,
    gh,
    gw,
  ]);
  const validH = g.reduceSum(g.slice(patchMask, 2, 0, 1), [1], false); // [B, 1]
  const validW = g.reduceSum(g.slice(patchMask, 1, 0, 1), [2], false); // [B, 1]

  // Per-image positions: pos[b, y, x] = Σ_ij Wy[b, y, i] Wx[b, x, j] P[i, j], zero outside the valid grid.
  const trained = Math.round(Math.sqrt(w.imagePositionEmbeddings.shape[0] - 1));
  const wy = bilinearWeights(g, validH, gh, trained, 'y'); // [B, gh, g]
  const wx = bilinearWeights(g, validW, gw, trained, 'x'); // [B, gw, g]
  const spatial = g.shared(w.imagePositionEmbeddings, 'grid', () =>
    g.initializer(
      'image_pos_grid',
      'float32',
      [trained, trained * d],
      w.imagePositionEmbeddings.data.subarray(d),
    ),
  );
  const rowsResized = g.reshape(g.matmul(wy, spatial), [0, gh, trained, d]); // [B, gh, g, D]
  const pos = g.reshape(g.matmul(g.unsqueeze(wx, [1]), rowsResized), [0, n, d]); // [B, gh*gw, D]

  // Where each grid patch goes: valid ones to y*w + x, the others after them in row-major order.
  const yN = g.floats(range(n, (i) => Math.floor(i / gw)));
  const xN = g.floats(range(n, (i) => i % gw));
  const inH = g.cast(g.op('Less', [yN, validH]), 'float32'); // [B, N]
  const valid = g.mul(inH, g.cast(g.op('Less', [xN, validW]), 'float32'));
  const count = g.mul(validH, validW); // [B, 1]
  const validDst = g.add(g.mul(yN, validW), xN);
  const validBefore = g.add(g.mul(g.op('Min', [yN, validH]), validW), g.mul(inH, g.op('Min', [xN, validW])));
  const padDst = g.sub(g.add(count, g.floats(range(n))), validBefore);
  const dst = g.add(g.mul(valid, validDst), g.mul(g.sub(g.float(1), valid), padDst)); // [B, N]
  const picked = g.matmul(oneHotRows(g, dst, patches), g.add(patchRows, pos)); // [B, L, D]

  const clsAndType = new Float32Array(tokens * d);
  for (let i = 0; i < tokens; i++) {
    for (let k = 0; k < d; k++) {
      clsAndType[i * d + k] =
        modality[k] + (i === 0 ? w.clsToken.data[k] + w.imagePositionEmbeddings.data[k] : 0);
    }
  }
  const x = g.add(
    g.pad(picked, 3, 1, 1, 0, 0),
    g.initializer('image_cls_type', 'float32', [tokens, d], clsAndType),
  );
  const patchTokenMask = g.cast(g.op('Less', [g.floats(range(patches)), count]), 'float32'); // [B, L]
  return { x, mask: g.pad(patchTokenMask, 2, 1, 1, 0, 1), tokens };
}

/**
 * Bilinear (align_corners=True) weights from a trained axis of `trained` positions to each image's `valid`
 * [B, 1] positions, laid out over `size` outputs: [B, size, trained], rows at or past `valid` zero. Output y
 * samples source coordinate c = y (trained - 1) / (valid - 1) (0 when valid = 1), and source i weighs
 * max(0, 1 - |c - i|): the two neighbours' (1 - t) and t.
 */
function bilinearWeights(
  g: GraphBuilder,
  valid: string,
  size: number,
  trained: number,
  axis: string,
): string {
  const out = g.floats(range(size), [size, 1]);
  const src = g.floats(range(trained), [1, trained]);
  const v = g.unsqueeze(valid, [2]); // [B, 1, 1]
  const step = g.div(g.float(trained - 1), g.op('Max', [g.sub(v, g.float(1)), g.float(1)]));
  const coord = g.mul(out, step); // [B, size, 1]
  const tent = g.op('Relu', [g.sub(g.float(1), g.op('Abs', [g.sub(coord, src)]))], {}, `tent_${axis}`);
  return g.mul(tent, g.cast(g.op('Less', [out, v]), 'float32'));
}
