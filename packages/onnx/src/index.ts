export { attr, type AttrValue, type Dim, GraphBuilder, IR_VERSION, OPSET } from './builder.js';
export { decodeModel, encodeModel, ONNX_DTYPE, type OnnxDType } from './proto.js';
export { fusedLinear, gelu, l2Normalize, layerNorm, linear, maskHat, softMaskedSoftmax } from './nn.js';
export {
  bipartiteDst,
  type BipartiteOptions,
  mergeImage,
  mergeRows,
  oneHotRows,
  saliencyScores,
  selectTop,
  stableRank,
} from './reduce.js';
export { type BlockOutput, type BlockState, type BlockTrace, transformerBlock } from './block.js';
export {
  type BlockGraphSpec,
  buildBlockGraph,
  buildMergeGraph,
  buildPruneGraph,
  buildSaliencyGraph,
  clampedMergeR,
  emitTrace,
  type MergeGraphSpec,
  type SaliencyGraphSpec,
  type TraceOutputs,
} from './standalone.js';
export {
  buildViltGraph,
  scheduleKey,
  type ViltGraph,
  ViltGraphCache,
  type ViltGraphGeometry,
} from './vilt.js';
export {
  type CompiledVilt,
  type GraphKind,
  type GraphRuntime,
  OrtGraphBackend,
  type OrtGraphBackendOptions,
  type RuntimeFeeds,
  type RuntimeOutputs,
  type RuntimeSession,
  type RuntimeTensor,
  viltGeometryOf,
} from './ort-backend.js';
