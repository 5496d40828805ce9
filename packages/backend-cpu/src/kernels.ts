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
