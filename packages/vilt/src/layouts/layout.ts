import type { CheckpointLayout, ViltConfig } from '../config.js';
import type { ImageProcessorConfig } from '../preprocessor.js';
import type { TensorSource, ViltBackboneWeights } from '../weights.js';

/**
 * What differs between checkpoint layouts, as one record per layout: how config.json reads, where the
 * backbone and the head's tensors are, how images are prepared and where answer labels come from.
 * model.ts runs the same steps for every layout through it.
 */
export interface LayoutReader {
  readonly layout: CheckpointLayout;
  /**
   * config.json -> ViltConfig. `labels` are those config.json gives (none for the authors' layout);
   * `geometry.maxTextLength` is the text window the tokenizer pads to. The tensors give sizes config.json
   * leaves out.
   */
  config(json: unknown, tensors: TensorSource): ViltConfig;
  backbone(src: TensorSource, config: ViltConfig): ViltBackboneWeights;
  /** The name prefix of the checkpoint's head: a classifier's `{0,1,3}` layers, or rank_output. */
  headPrefix(config: ViltConfig): string;
  /** config.json's layer count field, for errors. */
  readonly depthField: string;
  /**
   * Tensors the checkpoints carry that the model does not read and may skip (buffers, training-only heads).
   * Any other tensor left unread is an error: it means config.json and the weights disagree.
   */
  readonly ignoredTensors: readonly RegExp[];
  /** The image transform: from preprocessor_config.json (parsed; undefined when there is none) or fixed. */
  preprocessor(json: unknown, config: ViltConfig): ImageProcessorConfig;
  /** Where a VQA checkpoint's answer labels come from, for the error when there are none. */
  readonly labelsFrom: string;
}
