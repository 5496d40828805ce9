/**
 * @pumer/meter: the PuMer authors' METER checkpoints for PuMer.js — config.json + text_config.json → core's
 * MeterGeometry and schedule, their pytorch_model.bin (or the model.safetensors convertMeter writes) → core's
 * MeterModel, RoBERTa's byte-level BPE tokenizer, CLIP image preparation, and the VQA / VE / NLVR2 / retrieval
 * pipelines on any registered backend. Browser-safe: no Node imports here; `@pumer/meter/node` adds directory
 * loading, conversion and image decoding from paths and bytes.
 */
export {
  isMeterConfig,
  METER_ARCHITECTURES,
  METER_CONFIG_DEFAULTS,
  METER_MODEL_TYPE,
  METER_NORM_EPS,
  METER_TASK_LABELS,
  METER_VIT_DEFAULTS,
  type MeterConfig,
  meterScheduleFromConfig,
  parseMeterConfig,
  ROBERTA_BASE_CONFIG,
} from './config.js';
export {
  METER_CHECKPOINT_FILE_NAMES,
  type MeterSafetensorsCheckpoint,
  toMeterSafetensors,
} from './convert.js';
export { weightsFingerprint } from './fingerprint.js';
export { type LoadedMeter, type MeterFiles, meterFromFiles, readMeterFiles } from './model.js';
export {
  type CreateMeterPipelineOptions,
  createMeterPipeline,
  METER_PIPELINE_TASKS,
  type MeterPipeline,
  type MeterTaskPipelines,
} from './create-pipeline.js';
export {
  type MeterDetails,
  type MeterPipelineBase,
  type MeterPipelineOptions,
  type MeterStepCounts,
  meterBatchInputs,
  resolveMeterModel,
  setMeterCheckpointLoader,
} from './pipeline-shared.js';
export type {
  MeterAnswerOptions,
  MeterVqaItem,
  MeterVqaPipeline,
  MeterVqaResult,
} from './vqa-pipeline.js';
export type {
  MeterClassifyOptions,
  MeterVeItem,
  MeterVePipeline,
  MeterVeResult,
} from './ve-pipeline.js';
export type { MeterNlvr2Item, MeterNlvr2Pipeline, MeterNlvr2Result } from './nlvr2-pipeline.js';
export type {
  MeterRankOptions,
  MeterRetrievalPipeline,
  MeterScoreResult,
} from './retrieval-pipeline.js';
export {
  CLIP_MEAN,
  CLIP_STD,
  centerCropOffset,
  clipResizeTarget,
  prepareMeterImage,
} from './preprocessor.js';
export { BPE_TOKENIZER, MeterTokenizer } from './tokenizer.js';
export {
  type CrossLayerSizes,
  coAttentionStepWeightsFromState,
  crossLayerWeightsFromState,
  METER_IGNORED_TENSORS,
  meterWeightsFromTensors,
  type TensorGetter,
} from './weights.js';
