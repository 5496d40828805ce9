/**
 * @pumer/vilt/node: everything in @pumer/vilt, plus what needs Node — loading checkpoint directories,
 * PNG/JPEG decoding from paths and bytes, the bundled default model and images, and `evaluate`.
 * Importing it installs the PNG/JPEG decoder and the directory loader used by the pipeline.
 */
import { setImageDecoder } from './image.js';
import { nodeImageDecoder } from './node/decode.js';
import { loadVilt } from './node/load.js';
import { setCheckpointLoader } from './pipeline-shared.js';

export * from './index.js';
export { type BundledImage, bundledImages, defaultModelDir } from './node/assets.js';
export { packageRoot } from './node/package-root.js';
export {
  createNodeImageDecoder,
  decodeImageBytes,
  decodeImageFile,
  nodeImageDecoder,
} from './node/decode.js';
export {
  type EvalExample,
  type EvalSet,
  type EvaluateOptions,
  type EvaluateResult,
  evaluate,
  loadEvalSet,
} from './node/evaluate.js';
export {
  type ConvertCheckpointOptions,
  type ConvertedCheckpoint,
  convertCheckpoint,
} from './node/convert.js';
export {
  type CheckpointOutputFile,
  checkOutputDir,
  convertingIn,
  jsonFileText,
  type WrittenFile,
  writeOutputFiles,
} from './node/checkpoint-output.js';
export { type LoadViltOptions, loadVilt, readViltFiles } from './node/load.js';

setImageDecoder(nodeImageDecoder);
setCheckpointLoader(loadVilt);
