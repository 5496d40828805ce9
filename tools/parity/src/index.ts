export { BACKEND_PACKAGES, loadBackend } from './backends.js';
export {
  type CaseResult,
  formatCaseLine,
  formatSummary,
  type GoldenParityOptions,
  type ParityReport,
  runGoldenParity,
} from './runner.js';
export * from './meter-model-parity.js';
export * from './model-parity.js';
export { findSharedDir, SHARED_ENV } from './shared-data.js';
