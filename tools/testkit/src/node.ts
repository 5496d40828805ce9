/** @pumer/testkit/node: everything in @pumer/testkit, plus the reference data on disk. */
export * from './index.js';
export { goldenDir, goldenFiles, readGoldenDocument } from './golden/files.js';
export {
  METER_MODELS,
  type MeterModelName,
  meterGoldenDir,
  meterGoldenFiles,
  meterModelDir,
  parsePythonJson,
  readMeterGoldenDocument,
  readMeterModelCases,
} from './meter/files.js';
export {
  checkpointDir,
  type EvalRow,
  evalBatch,
  evalRows,
  evalSetPath,
  MODEL_CHECKPOINTS,
  type ModelCheckpoint,
  modelsDir,
  type Reference,
  type ReferenceRun,
  readReference,
  referenceLogits,
  referencePath,
  settledCheckpointCopy,
  settledTime,
} from './model-cases.js';
export {
  findRepoRoot,
  findSharedDir,
  hasSharedData,
  SHARED_ENV,
  type SharedDirOptions,
  sharedDir,
  sharedPath,
} from './shared-data.js';
