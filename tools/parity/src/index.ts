export { BACKEND_PACKAGES, loadBackend } from './backends.js';
export { ATOL, Comparison, RTOL } from './compare.js';
export { blockArgsFromGolden, goldenToFloat, mergeArgsFromGolden } from './convert.js';
export {
  GOLDEN_FORMAT,
  GOLDEN_KINDS,
  type GoldenCase,
  type GoldenKind,
  type GoldenTensor,
  parseGoldenCase,
  parseGoldenTensor,
} from './golden.js';
export {
  type CaseResult,
  formatCaseLine,
  formatSummary,
  type GoldenParityOptions,
  type ParityReport,
  runGoldenCase,
  runGoldenDocument,
  runGoldenParity,
} from './runner.js';
export * from './model-parity.js';
