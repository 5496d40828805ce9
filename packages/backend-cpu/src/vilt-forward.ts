import { BackendError, type ReductionConfig, type ViltInputs, type ViltModel, type ViltOutputs } from '@pumer/core';

// Placeholder until the ViLT forward lands (owned by the @pumer/vilt work).
export function viltForward(_model: ViltModel, _inputs: ViltInputs, _config: ReductionConfig | null): ViltOutputs {
  throw new BackendError('viltForward is not implemented yet');
}
