/**
 * The graph builders (`@pumer/onnx/graph`): the GraphBuilder, transformer pieces, the reduce steps as graph
 * fragments — each the twin of the @pumer/backend-cpu kernel of the same name (docs/reducers.md) — one block,
 * each reducer op as its own graph, and the whole reduced ViLT as one graph (its embeddings, encoder passes and
 * heads, each the twin of @pumer/backend-cpu's function of the same name) — and the whole reduced METER.
 */
export { type BlockOutput, type BlockState, transformerBlock } from './block.js';
export {
  attr,
  type AttrValue,
  type Dim,
  type ExternalDataModel,
  type ExternalDataOptions,
  type ExternalTensor,
  GraphBuilder,
  IR_VERSION,
  OPSET,
} from './builder.js';
export {
  fusedLinear,
  gelu,
  l2Normalize,
  layerNorm,
  linear,
  maskHat,
  quickGelu,
  softMaskedSoftmax,
} from './nn.js';
export { ONNX_DTYPE, type OnnxDType } from './proto.js';
export { type BipartiteOptions, bipartiteDst, identityDst, type MatchScore } from './reduce/bipartite.js';
export {
  type MergedRows,
  type MergedTokens,
  mergeRows,
  mergeTokens,
  mergeTokensWithMask,
  type TokenRows,
} from './reduce/merge.js';
export { selectTop, type TopSelection } from './reduce/prune.js';
export { oneHotRows, stableRank } from './reduce/rank.js';
export { type BlockTrace, type LayerTokens, reduceLayer } from './reduce/reduce-layer.js';
export { gatherRows } from './reduce/rows.js';
export { type SaliencySources, saliencyScores } from './reduce/saliency.js';
export {
  type BlockGraphSpec,
  buildBlockGraph,
  buildMergeGraph,
  buildPruneGraph,
  buildSaliencyGraph,
  emitTrace,
  type MergeGraphSpec,
  type SaliencyGraphSpec,
  type TraceOutputs,
} from './standalone.js';
export { type ImageEmbedding, type ImageGrid, embedImage } from './vilt/embeddings.js';
export { encodeImagePass, type ImagePassSpec, type PassLayer } from './vilt/encoder.js';
export {
  classifierHead,
  type ImagePass,
  type ImagePassesSpec,
  pooledOutput,
  rankHead,
  runImagePasses,
} from './vilt/head.js';
export {
  buildViltGraph,
  scheduleKey,
  type ViltGraph,
  ViltGraphCache,
  type ViltGraphGeometry,
} from './vilt.js';
export {
  type CoAttentionReduceInputs,
  type CoAttentionState,
  type CoAttentionStepOutput,
  coAttentionStep,
  reduceCoAttention,
} from './meter/co-attention-step.js';
export {
  type CrossLayerAttentionOutput,
  type CrossLayerAttentionSpec,
  type CrossLayerAttentionValues,
  crossLayer,
  crossLayerAttention,
  crossLayerAttentions,
  crossLayerFeedForward,
  type StreamTokens,
} from './meter/cross-layer.js';
export { meterHead, meterPooledFeatures } from './meter/head.js';
export { imageEncoder } from './meter/image-encoder.js';
export {
  buildCoAttentionStepGraph,
  buildMeterGraph,
  type CoAttentionStepGraphSpec,
  type MeterGraph,
  type MeterGraphStep,
} from './meter/meter.js';
export { textEncoder } from './meter/text-encoder.js';
