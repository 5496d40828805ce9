/**
 * @pumer/vilt: Hugging Face ViLT checkpoints for PuMer.js — safetensors, config, tokenizer, image preparation
 * and the VQA pipeline. Browser-safe: no Node imports here. In Node, import '@pumer/vilt/node' instead,
 * which adds directory loading, PNG/JPEG decoding, the bundled default model and `evaluate`.
 */
export {
  CHECKPOINT_FILE_NAMES,
  type CheckpointFormat,
  readCheckpoint,
  sniffCheckpointFormat,
} from './checkpoint/read.js';
export {
  readShardedCheckpoint,
  SHARD_INDEX_FILE_NAMES,
  type ShardedWeights,
  shardFileNames,
  shardWeightMap,
} from './checkpoint/sharded.js';
export {
  type CheckpointFile,
  type CheckpointTensor,
  type FloatCheckpointTensor,
  type FloatDType,
  type IntCheckpointTensor,
  type IntDType,
  isFloatTensor,
  type TensorDType,
} from './checkpoint/tensors.js';
export { readTorchCheckpoint } from './checkpoint/torch-zip.js';
export { parseViltConfig, type ViltConfig } from './config.js';
export {
  composeDetails,
  INTO_IMAGE_CLS,
  INTO_TEXT,
  type LayerCounts,
  type PatchFate,
  type PatchStatus,
  type ReduceLayerDetails,
  type VqaDetails,
} from './details.js';
export {
  checkDecodedImage,
  type DecodedImage,
  decodeImageInput,
  getImageDecoder,
  type ImageDecoder,
  type ImageFormat,
  type ImageInput,
  setImageDecoder,
  sniffImageFormat,
} from './image.js';
export { type LoadedVilt, type ViltFiles, viltFromFiles } from './model.js';
export {
  type AnswerOptions,
  createVqaPipeline,
  REQUESTED_BY_CALLER,
  rankAnswers,
  resolveModel,
  setCheckpointLoader,
  stackImages,
  type VqaAnswer,
  type VqaItem,
  type VqaPipeline,
  type VqaPipelineInfo,
  type VqaPipelineOptions,
  type VqaResult,
} from './pipeline.js';
export {
  type ImageProcessorConfig,
  MAX_SHORTEST_EDGE,
  parsePreprocessorConfig,
  prepareImage,
  VILT_PROCESSOR_DEFAULTS,
  viltResizeTarget,
} from './preprocessor.js';
export { RESAMPLE, resizePixels } from './resize.js';
export { createJpegDecoder, type JpegDecoder, jpegImageDecoder, loadJpegDecoder } from './jpeg.js';
export {
  readSafetensors,
  type SafetensorsDType,
  type SafetensorsFile,
  type SafetensorsTensor,
  type TensorToWrite,
  writeSafetensors,
} from './safetensors.js';
export { type EncodedBatch, type EncodedQuestion, ViltTokenizer } from './tokenizer.js';
export { CLASSIFIER_NORM_EPS, viltWeightsFromTensors } from './weights.js';
