import { PumerError } from '@pumer/core';
import { parseViltConfig } from '../config.js';
import { parsePreprocessorConfig } from '../preprocessor.js';
import { HF_IGNORED_TENSORS, hfBackboneWeights, hfHeadPrefix } from '../weights.js';
import type { LayoutReader } from './layout.js';

/**
 * The Hugging Face ViLT layout (transformers' modeling_vilt.py): config.json as save_pretrained writes it,
 * `vilt.embeddings.*` / `vilt.encoder.layer.*` / `classifier.*` or `rank_output.*` tensors, ViltImageProcessor settings in
 * preprocessor_config.json, answers in `id2label`.
 */
export const HF_LAYOUT: LayoutReader = {
  layout: 'hf',
  config: (json) => parseViltConfig(json, 'config.json'),
  backbone: hfBackboneWeights,
  headPrefix: (config) => hfHeadPrefix(config.task),
  depthField: 'num_hidden_layers',
  ignoredTensors: HF_IGNORED_TENSORS,
  preprocessor(json, config) {
    if (json === undefined) {
      throw new PumerError(
        'CHECKPOINT',
        'preprocessor_config.json is missing: a Hugging Face ViLT checkpoint needs it (it says how images are resized and normalised)',
      );
    }
    return parsePreprocessorConfig(json, 'preprocessor_config.json', config.geometry.patchSize);
  },
  labelsFrom: 'config.json "id2label"',
};
