/**
 * @pumer/testkit: what every package's tests share. This entry reads no files (it also runs in a browser
 * page); `@pumer/testkit/node` adds the reference data on disk, `@pumer/testkit/vitest` the vitest adapter.
 */
export {
  CONTRACT_CASES,
  type ContractCase,
  type ContractExpectation,
  type ContractGroup,
  type PlainTensor,
  plain,
} from './contract/cases.js';
export { type ContractResult, firstDifference, runBackendContract, runContractCase } from './contract/run.js';
export { ATOL, Comparison, RTOL } from './golden/compare.js';
export { blockArgsFromGolden, goldenToFloat, mergeArgsFromGolden } from './golden/convert.js';
export {
  GOLDEN_FORMAT,
  GOLDEN_KINDS,
  type GoldenCase,
  type GoldenKind,
  type GoldenTensor,
  parseGoldenCase,
  parseGoldenTensor,
} from './golden/format.js';
export { type CaseResult, runGoldenCase, runGoldenDocument } from './golden/run.js';
export { crossLayerWeightsFromAuthors } from './meter/cross-layer-weights.js';
export { randomCrossLayerWeights, randomMeterModel } from './meter/random-model.js';
export {
  coAttentionStepArgsFromGolden,
  compareCoAttentionStep,
  METER_CROSS_LAYER_KIND,
  type MeterGoldenCase,
  parseMeterGoldenCase,
  runMeterGoldenCase,
  runMeterGoldenDocument,
} from './meter/golden.js';
export {
  compareMeterOutputs,
  METER_MODEL_CASES_KIND,
  type MeterModelCases,
  type MeterRunExpectation,
  type MeterStepExpectation,
  parseMeterModelCases,
} from './meter/model-cases.js';
export { compareOutputs, compareTraces, maxAbsDiff, TRACE_INDICES } from './model-compare.js';
export {
  MODEL_PARITY_SCHEDULE_NAMES,
  type ModelParitySchedule,
  type ModelParityScheduleName,
  modelParitySchedules,
  TINY_MODEL_LAYERS,
} from './model-schedules.js';
export { randomBlockWeights, randomLinear, randomTensor } from './random.js';
