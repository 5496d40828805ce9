import type { ClassifierHead, RankHead, ReductionConfig, ViltModel, ViltWeights } from '@pumer/core';
import type { GraphBuilder } from '../builder.js';
import { gelu, layerNorm, linear } from '../nn.js';
import type { ImageGrid } from './embeddings.js';
import { encodeImagePass, type PassLayer } from './encoder.js';

/**
 * Everything after the encoder as graph fragments, twins of @pumer/backend-cpu's vilt/head.ts (the same names):
 * the pooled output, the two heads, and `runImagePasses`, which runs one encoder pass per image (NLVR2: two) and
 * concatenates their pooled outputs for the classifier.
 */

/** The final LayerNorm of the text [CLS] row (token 0) and the pooler (dense + tanh): x [B, N, D] -> [B, D]. */
export function pooledOutput(g: GraphBuilder, w: ViltWeights, x: string): string {
  const d = w.pooler.weight.shape[1];
  // LayerNorm is per row and only row 0 reaches the pooler, so normalising that row alone is exact.
  const cls = g.reshape(layerNorm(g, g.slice(x, 1, 0, 1), w.finalNorm, 'final_norm'), [0, d]);
  return g.op('Tanh', [linear(g, cls, w.pooler, 'pooler', true)]);
}

/** fc1 -> LayerNorm -> GELU -> fc2 over pooled [B, numImages·D]: logits [B, numLabels] (VQA, VE, NLVR2). */
export function classifierHead(g: GraphBuilder, head: ClassifierHead, pooled: string): string {
  const hidden = gelu(
    g,
    layerNorm(g, linear(g, pooled, head.fc1, 'classifier.fc1', true), head.norm, 'classifier.norm'),
  );
  return linear(g, hidden, head.fc2, 'classifier.fc2', true);
}

/** rank_output over pooled [B, D]: one score per (text, image) pair, [B, 1] (retrieval). */
export function rankHead(g: GraphBuilder, head: RankHead, pooled: string): string {
  return linear(g, pooled, head.rank, 'rank_output', true);
}

/** What every image pass shares: the embedded text, and each image's pixels. */
export interface ImagePassesSpec {
  /** Embedded text [B, T, D] (modality 0 added), its mask [B, T] and length. */
  readonly text: string;
  readonly attentionMask: string;
  readonly textLen: number;
  /** Per image: pixels [B, C, H, W], their mask [B, H, W] (padded batches) and the patch grid it keeps. */
  readonly images: readonly {
    readonly pixels: string;
    readonly pixelMask: string | null;
    readonly grid: ImageGrid;
  }[];
  readonly config: ReductionConfig | null;
}

/** What one image pass left: its pooled rows [B, D] and its layers. */
export interface ImagePass {
  readonly pooled: string;
  readonly layers: readonly PassLayer[];
}

/**
 * One encoder pass per image over [text; image i] with modality row i + 1, each reduced on its own as the
 * schedule says (Hugging Face's ViltForImagesAndTextClassification, the authors' ViltForVisualReasoning; one
 * image: the plain ViLT). Trace outputs are `layer{l}_*` with one image, `image{i+1}_layer{l}_*` with several.
 * The passes share every weight initializer (GraphBuilder.shared), so a two-image graph is not twice as large.
 */
export function runImagePasses(g: GraphBuilder, model: ViltModel, spec: ImagePassesSpec): ImagePass[] {
  const several = spec.images.length > 1;
  return spec.images.map((image, i) => {
    const { x, layers } = encodeImagePass(g, model, {
      text: spec.text,
      attentionMask: spec.attentionMask,
      textLen: spec.textLen,
      ...image,
      modalityRow: i + 1,
      config: spec.config,
      tracePrefix: several ? `image${i + 1}_layer` : 'layer',
    });
    return { pooled: pooledOutput(g, model.weights, x), layers };
  });
}
