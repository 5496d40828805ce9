/**
 * What an onnxruntime backend package needs: the Backend over a GraphRuntime, and the model codec. The graph
 * builders (GraphBuilder, the reducer fragments, whole-model graphs) are `@pumer/onnx/graph`.
 */
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
export type {
  CreateGraphSession,
  GraphCacheOutcome,
  GraphSession,
  GraphStartup,
  OpenCachedGraphSession,
} from './graph-startup.js';
export { type ContentSink, modelFingerprint, walkModelContent } from './model-fingerprint.js';
export { decodeModel, encodeModel } from './proto.js';
export type { ViltGraphGeometry } from './vilt.js';
