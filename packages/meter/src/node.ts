/**
 * @pumer/meter/node: everything in @pumer/meter, plus what needs Node — loading and converting checkpoint
 * directories, the bundled tiny tokenizer, and image decoding from paths and PNG/JPEG bytes (@pumer/vilt/node's
 * decoder, installed by importing it). Importing it lets the pipelines take a checkpoint directory.
 */
import '@pumer/vilt/node';
import { loadMeter } from './node/load.js';
import { setMeterCheckpointLoader } from './pipeline-shared.js';

export * from './index.js';
export { BUNDLED_TOKENIZERS, bundledTokenizerPath } from './node/assets.js';
export { type ConvertedMeter, type ConvertMeterOptions, convertMeter } from './node/convert.js';
export { isMeterCheckpoint, type LoadMeterOptions, loadMeter, readMeterDir } from './node/load.js';

setMeterCheckpointLoader((dir) => loadMeter(dir));
