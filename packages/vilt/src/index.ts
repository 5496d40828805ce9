/**
 * @pumer/vilt: Hugging Face ViLT checkpoints for PuMer.js — safetensors, config, tokenizer, image preparation
 * and the task pipelines (VQA, visual entailment, NLVR2, retrieval). Browser-safe: no Node imports here. In Node, import '@pumer/vilt/node' instead,
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
export {
  type CheckpointLayout,
  configArchitecture,
  fieldError,
  HF_VILT_DEFAULTS,
  optionalPositiveInt,
  parseViltConfig,
  requirePositiveInt,
  VQA_ARCHITECTURE,
  type ViltConfig,
} from './config.js';
export {
  composeDetails,
  INTO_IMAGE_CLS,
  INTO_PADDING,
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
export { AUTHORS_VQA_LABEL_FILE, parseLabelList } from './labels.js';
export {
  AUTHORS_ARCHITECTURES,
  AUTHORS_LAYOUT,
  AUTHORS_NORM_EPS,
  authorsImageTransform,
} from './layouts/authors.js';
export {
  HF_CHECKPOINT_FILE_NAMES,
  type HfCheckpoint,
  hfConfigJson,
  hfWeightTensors,
  toHfCheckpoint,
} from './convert.js';
export { detectLayout } from './layouts/detect.js';
export { HF_LAYOUT } from './layouts/hf.js';
export type { LayoutReader } from './layouts/layout.js';
export { type LoadedVilt, type ViltFiles, viltFromFiles } from './model.js';
export { type PaddedImages, padImages } from './pad-images.js';
export {
  type AnswerOptions,
  createVqaPipeline,
  rankAnswers,
  type VqaAnswer,
  type VqaItem,
  type VqaPipeline,
  type VqaPipelineInfo,
  type VqaPipelineOptions,
  type VqaResult,
} from './pipeline.js';
export {
  type Batching,
  type BackendSource,
  backendSource,
  type Classification,
  type ClassScore,
  checkLogits,
  checkQuestion,
  classifyRow,
  classScores,
  type PipelineBase,
  type PipelineBaseOf,
  type PipelineInfo,
  type PipelineOptions,
  pipelineBase,
  REQUESTED_BY_CALLER,
  resolveModel,
  type Running,
  setCheckpointLoader,
  softmax,
  stackImages,
  TASK_NAMES,
} from './pipeline-shared.js';
export { type GraphStartupPhases, type PipelineStartup, pipelineStartup } from './startup.js';
export {
  type ClassifyOptions,
  createVePipeline,
  prepareVeItems,
  type VeItem,
  type VePipeline,
  type VeResult,
} from './ve-pipeline.js';
export {
  createNlvr2Pipeline,
  nlvr2TrueIndex,
  prepareNlvr2Items,
  type Nlvr2Item,
  type Nlvr2Pipeline,
  type Nlvr2Result,
} from './nlvr2-pipeline.js';
export {
  checkRankOptions,
  createRetrievalPipeline,
  type RankedMatch,
  type RankOptions,
  type RankPair,
  type RankProgress,
  type RankResult,
  rankPairs,
  rankResult,
  rankScores,
  type RetrievalPipeline,
  type ScoreOptions,
  type ScoreResult,
} from './retrieval-pipeline.js';
export { createPipeline, PIPELINE_TASKS, type TaskPipelines, type ViltPipeline } from './create-pipeline.js';
export {
  type ImageProcessorConfig,
  MAX_SHORTEST_EDGE,
  PUMER_PREPROCESSOR_FIELD,
  parsePreprocessorConfig,
  prepareImage,
  preprocessorConfigJson,
  VILT_PROCESSOR_DEFAULTS,
  viltResizeTarget,
} from './preprocessor.js';
export { RESAMPLE, resizePixels } from './resize.js';
export { DEFAULT_MAX_PIXELS, type ImageDecodeOptions, jpegDimensions } from './image-size.js';
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
export {
  byteLevelAlphabet,
  type CheckedTokenizerJson,
  checkTokenizerJson,
  type TokenizerExpectation,
  type TokenizerModelType,
  WORDPIECE_TOKENIZER,
} from './tokenizer-json.js';
export { checkJsonValue, describeValue } from './json-value.js';
export {
  hfBackboneWeights,
  hfHeadPrefix,
  modalityRows,
  TensorSource,
  type ViltBackboneWeights,
  viltWeightsFromTensors,
} from './weights.js';
export {
  CLASSIFIER_NORM_EPS,
  type HeadLocation,
  HF_TASK_ARCHITECTURES,
  headKind,
  headWeights,
  hfTask,
  PUMER_TASK_FIELD,
  TASK_LABELS,
} from './heads.js';
