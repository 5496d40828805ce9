import { PumerError } from '@pumer/core';
import {
  isMeterConfig,
  type LoadedMeter,
  METER_CHECKPOINT_FILE_NAMES,
  type MeterFiles,
  meterFromFiles,
} from '@pumer/meter';
import { bytes, type FolderFile, find, folderName, json } from './checkpoint-folder.js';

/**
 * A METER checkpoint folder from the user's disk (the folder picker or a drop, as for ViLT): config.json with
 * `model_type` "meter", text_config.json (absent: roberta-base's), the weights (model.safetensors, as `pumer
 * convert` writes them, or the authors' pytorch_model.bin) and tokenizer.json — which the page cannot fetch
 * from a hub, so the folder must hold it (a converted folder does). What is missing or wrong is for
 * meterFromFiles to say.
 */

const WEIGHT_FILE_NAMES = [METER_CHECKPOINT_FILE_NAMES.weights, 'pytorch_model.bin'];

/** Whether the folder's config.json says METER. */
export async function isMeterFolder(files: readonly FolderFile[]): Promise<boolean> {
  const config = find(files, METER_CHECKPOINT_FILE_NAMES.config);
  if (!config) return false;
  try {
    return isMeterConfig(await json(config));
  } catch {
    return false;
  }
}

/** Reads a METER checkpoint folder's files for meterFromFiles. */
export async function readMeterFolder(files: readonly FolderFile[]): Promise<MeterFiles> {
  const names = METER_CHECKPOINT_FILE_NAMES;
  const config = find(files, names.config);
  if (!config)
    throw new PumerError(
      'CHECKPOINT',
      `"${folderName(files)}" is not a checkpoint folder: it has no config.json`,
    );
  const weightFile = WEIGHT_FILE_NAMES.map((n) => find(files, n)).find((f) => f !== undefined);
  if (!weightFile)
    throw new PumerError(
      'CHECKPOINT',
      `the folder has no weights: expected ${WEIGHT_FILE_NAMES.join(' or ')}`,
    );
  const textConfig = find(files, names.textConfig);
  const tokenizer = find(files, names.tokenizer);
  return {
    config: await json(config),
    ...(textConfig ? { textConfig: await json(textConfig) } : {}),
    weights: await bytes(weightFile),
    weightsName: weightFile.path,
    ...(tokenizer ? { tokenizer: await json(tokenizer) } : {}),
    // Graph caches key on it: the weights' path, size and date tell two folders apart.
    id: `folder:${weightFile.path}:${weightFile.file.size}:${weightFile.file.lastModified ?? 0}`,
  };
}

/** A picked METER folder, loaded. */
export async function loadMeterFolder(files: readonly FolderFile[]): Promise<LoadedMeter> {
  return meterFromFiles(await readMeterFolder(files));
}
