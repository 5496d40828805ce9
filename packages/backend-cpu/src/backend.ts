import type {
  Backend,
  BackendInfo,
  BlockArgs,
  BlockResult,
  MergeArgs,
  ReductionConfig,
  Saliency,
  SaliencyInputs,
  ViltInputs,
  ViltModel,
} from '@pumer/core';
import { runBlockSync } from './block.js';
import { mergeTokens } from './merge/merge.js';
import { pruneTokens } from './prune.js';
import { computeSaliency } from './saliency.js';
import { viltForward } from './vilt-forward.js';

/** Runs a synchronous op as a promise, so a thrown error becomes a rejection (the contract is async). */
function later<T>(fn: () => T): Promise<T> {
  return Promise.resolve().then(fn);
}

/** The CPU reference backend: every op in plain TypeScript, in-process. */
export function createCpuBackend(): Backend {
  const info: BackendInfo = Object.freeze({ name: 'cpu', provider: 'typescript' });
  return {
    name: 'cpu',
    info: () => info,
    pruner: {
      saliency: (method: Saliency, inputs: SaliencyInputs) => later(() => computeSaliency(method, inputs)),
      prune: (scores, keep) => later(() => pruneTokens(scores, keep)),
    },
    merger: {
      merge: (args: MergeArgs) => later(() => mergeTokens(args)),
    },
    runBlock: (args: BlockArgs): Promise<BlockResult> => later(() => runBlockSync(args)),
    runVilt: (model: ViltModel, inputs: ViltInputs, config: ReductionConfig | null) =>
      later(() => viltForward(model, inputs, config)),
    dispose: async () => {},
  };
}
