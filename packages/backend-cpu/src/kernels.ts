/**
 * The CPU reference's kernels, for code that already runs on the CPU and wants one step without a Backend.
 * The reduce kernels take flat arrays with their sizes and trust their input (a Backend checks it first with
 * core's check* functions); each has a twin of the same name in @pumer/onnx/graph (docs/reducers.md).
 */
export { runBlockSync } from './block.js';
export type { Floats } from './ops/arrays.js';
export { type AttentionResult, type AttentionWeights, softMaskAttention } from './ops/attention.js';
export { erf, gelu, geluTensor } from './ops/gelu.js';
export { layerNorm } from './ops/layer-norm.js';
export { linear } from './ops/linear.js';
export {
  type BipartiteOptions,
  bipartiteDst,
  type DstMap,
  identityDst,
  type MatchScore,
} from './reduce/bipartite.js';
export {
  type MergedRows,
  type MergedTokens,
  mergeRows,
  mergeTokens,
  mergeTokensWithMask,
  normalizedRows,
  type TokenRows,
} from './reduce/merge.js';
export { selectTop, type TopSelection } from './reduce/prune.js';
export { stableRank } from './reduce/rank.js';
export { type LayerTokens, type ReducedLayer, reduceLayer } from './reduce/reduce-layer.js';
export { type SaliencySources, saliencyScores } from './reduce/saliency.js';
export {
  type CoAttentionStepArrays,
  type CoAttentionStepInputs,
  type CoAttentionTokens,
  coAttentionStep,
  type ReducedCoAttention,
  reduceCoAttention,
} from './meter/co-attention-step.js';
export {
  type CrossAttentions,
  crossLayer,
  crossLayerAttention,
  crossLayerAttentions,
  crossLayerFeedForward,
  type LayerDims,
  type TokenStream,
} from './meter/cross-layer.js';
export { meterHead, meterPooledFeatures } from './meter/head.js';
export { imageEncoder, quickGelu } from './meter/image-encoder.js';
export { meterForward } from './meter/meter-forward.js';
export { robertaPositionIds, textEncoder } from './meter/text-encoder.js';
export {
  additiveMaskRow,
  type AttentionStreams,
  attentionArrays,
  plainSoftmaxRow,
  type RowSoftmax,
  softMaskSoftmax,
} from './ops/attention.js';
