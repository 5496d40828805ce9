import { registerBackend } from '@pumer/core';
import { createCpuBackend } from './backend.js';

export { createCpuBackend } from './backend.js';
export { expectBlockWeights, runBlockSync } from './block.js';
export {
  type DstMap,
  identityDst,
  normalizedRows,
  saliencyDiffDst,
  similarityDst,
  sumByDst,
  weightedAverageByDst,
} from './merge/bipartite.js';
export { type DiffMergeArgs, diffDst, diffMerge } from './merge/diff.js';
export { mergeTokens } from './merge/merge.js';
export { type TipMergeArgs, tipDst, tipMerge } from './merge/tip.js';
export { type TomeMergeArgs, tomeDst, tomeMerge } from './merge/tome.js';
export { type Floats, toFloatTensor } from './ops/arrays.js';
export {
  type AttentionArrays,
  type AttentionResult,
  type AttentionWeights,
  expectAttentionWeights,
  SOFT_MASK_EPS,
  softMaskAttention,
  softMaskAttentionArrays,
  softMaskRow,
} from './ops/attention.js';
export { erf, erfc, gelu, geluInPlace, geluTensor } from './ops/gelu.js';
export { expectLayerNorm, layerNorm, layerNormRows } from './ops/layer-norm.js';
export { expectLinear, linear, linearRows } from './ops/linear.js';
export { argsortAscending, argsortDescending, pruneTokens, topKArrays } from './prune.js';
export { computeSaliency, type SaliencySources, saliencyArrays, textLengths } from './saliency.js';
export { expectFloatInput, expectInteger } from './validate.js';

// Importing this package makes 'cpu' available to setBackend()/ready(); priority 1 puts it below device backends.
registerBackend('cpu', createCpuBackend, 1);
