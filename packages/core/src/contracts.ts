import type { ReductionConfig } from './config.js';
import type { MergeStyle } from './rules/merge-styles.js';
import type { Saliency } from './rules/saliency-methods.js';
import type {
  CoAttentionStepArgs,
  CoAttentionStepResult,
  MeterInputs,
  MeterModel,
  MeterOutputs,
} from './meter.js';
import type { BlockWeights, LayerTrace, ViltInputs, ViltModel, ViltOutputs } from './model.js';
import type { FloatTensor, IntTensor } from './tensor.js';

/**
 * The contracts a backend fulfils. Every method is async so that backends on a device (onnxruntime) and
 * the in-process CPU reference share one shape; semantics are docs/reducers.md to the letter.
 */

/** What the saliency methods read from a layer's attention (docs/reducers.md, "Text saliency"). */
export interface SaliencyInputs {
  /** Attention probabilities [B, H, N, N] (first_head, mean_head). */
  readonly attn?: FloatTensor;
  /** Keys averaged over heads [B, N, headDim] (k_metric, qk). */
  readonly kbar?: FloatTensor;
  /** Queries averaged over heads [B, N, headDim] (qk). */
  readonly qbar?: FloatTensor;
  /** Text mask [B, T], possibly fractional; its row sums divide the scores. */
  readonly textMask: FloatTensor;
}

export interface PruneResult {
  /** Kept image-token indices [B, keep], highest score first. */
  readonly keepIdx: IntTensor;
  /** Their scores [B, keep]. */
  readonly scores: FloatTensor;
}

/** Text-informed pruning of image tokens. */
export interface Pruner {
  /** Text saliency of each of the last N - T tokens (the image tokens) [B, I]. */
  saliency(method: Saliency, inputs: SaliencyInputs): Promise<FloatTensor>;
  /** The `keep` highest scores of each row, in descending order (ties: lower index first). */
  prune(scores: FloatTensor, keep: number): Promise<PruneResult>;
}

export interface MergeArgs {
  readonly style: MergeStyle;
  /** Token states [B, n, D]. */
  readonly x: FloatTensor;
  /** Similarity metric [B, n, C] (tip, tome). */
  readonly metric?: FloatTensor;
  /** Text saliency of each token [B, n] (tip, diff). */
  readonly saliency?: FloatTensor;
  /** Token sizes [B, n, 1] for size-weighted merging (tome); default all ones. */
  readonly size?: FloatTensor;
  /** Tokens to remove; the merger clamps it to its style's limit. */
  readonly r: number;
  /** tome only: protect row 0 and re-sort unmerged rows by position (ToMe's class_token). Default true. */
  readonly protectFirst?: boolean;
}

export interface MergeResult {
  /** Merged states [B, n - r, D]. */
  readonly x: FloatTensor;
  /** Merged sizes [B, n - r, 1] (tome). */
  readonly size: FloatTensor | null;
  /** Output row of each input row [B, n]: rows sharing an output row were merged together. */
  readonly dst: IntTensor;
  /** The r actually applied after clamping. */
  readonly r: number;
}

/** Bipartite token merging (tip, tome, diff). */
export interface Merger {
  merge(args: MergeArgs): Promise<MergeResult>;
}

/** One reduce-capable transformer block on raw tensors (the golden `vilt_block` case). */
export interface BlockArgs {
  readonly weights: BlockWeights;
  readonly numHeads: number;
  readonly x: FloatTensor; // [B, N, D]
  readonly mask: FloatTensor; // [B, N]
  readonly textLen: number;
  /** The schedule; the block reduces if `layer` is one of its reduce layers. */
  readonly config: ReductionConfig | null;
  readonly layer: number;
}

export interface BlockResult {
  readonly x: FloatTensor;
  readonly mask: FloatTensor;
  readonly textLen: number;
  /** Attention probabilities before reduction [B, H, N, N]. */
  readonly attn: FloatTensor;
  readonly trace: LayerTrace;
}

export interface BackendInfo {
  /** Registry name: cpu, node, webgpu, … */
  readonly name: string;
  /** What actually ran: 'typescript', 'cuda', 'cpu', 'webgpu', 'wasm', … */
  readonly provider: string;
  /** What the caller asked for, when it differs from what ran. */
  readonly requested?: string;
  /** Why the backend fell back, in one line. */
  readonly fallbackReason?: string;
  /** Ops the runtime placed off the requested device, when it says so. */
  readonly offloadedOps?: readonly string[];
  /** The device that runs, in one line, when the backend can name it (a WebGPU adapter, say). */
  readonly adapter?: string;
  /** One line a user should see, e.g. that a software adapter is far slower than another backend. */
  readonly warning?: string;
}

export interface Backend {
  readonly name: string;
  info(): BackendInfo;
  readonly pruner: Pruner;
  readonly merger: Merger;
  runBlock(args: BlockArgs): Promise<BlockResult>;
  /** The whole model with the schedule applied (`null`: unreduced). */
  runVilt(model: ViltModel, inputs: ViltInputs, config: ReductionConfig | null): Promise<ViltOutputs>;
  /** One METER co-attention step (text layer with PuMer, then image layer) on raw tensors. */
  runCoAttentionStep(args: CoAttentionStepArgs): Promise<CoAttentionStepResult>;
  /** The whole METER with the schedule applied (`null`: unreduced); `reduceLayers` are step indices. */
  runMeter(model: MeterModel, inputs: MeterInputs, config: ReductionConfig | null): Promise<MeterOutputs>;
  /** Frees sessions, buffers and caches. The backend may be initialised again through the registry. */
  dispose(): Promise<void>;
}
