import { PumerError } from '@pumer/core';
import { readSafetensors } from '../safetensors.js';
import { type CheckpointFile, checkFiniteTensors } from './tensors.js';
import { isZip, readTorchCheckpoint } from './torch-zip.js';

/** The weight-file formats read here, told apart by their first bytes. */
export type CheckpointFormat = 'safetensors' | 'torch';

/** The file name each format has in a Hugging Face repository (used in messages when no name is given). */
export const CHECKPOINT_FILE_NAMES: Readonly<Record<CheckpointFormat, string>> = {
  safetensors: 'model.safetensors',
  torch: 'pytorch_model.bin',
};

/**
 * The start of a pre-1.6 torch.save file: PROTO 2, then LONG1 of torch's magic number 0x1950a86a20f9469cfc6c.
 * (Matched in full: a safetensors header length may well start with 0x80 0x02.)
 */
const LEGACY_TORCH_MAGIC = [
  0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19,
];

/**
 * A torch.save zip starts with a zip local header; a safetensors file with an 8-byte header length. The
 * legacy torch.save format (PyTorch < 1.6) is recognised only to be refused clearly.
 */
export function sniffCheckpointFormat(bytes: Uint8Array, source = 'weights'): CheckpointFormat {
  if (isZip(bytes)) return 'torch';
  if (bytes.length >= LEGACY_TORCH_MAGIC.length && LEGACY_TORCH_MAGIC.every((b, i) => bytes[i] === b)) {
    throw new PumerError(
      'CHECKPOINT',
      `${source}: the legacy torch.save format (PyTorch < 1.6, not a zip archive) is not read; re-save it with a current PyTorch or convert it to safetensors`,
    );
  }
  return 'safetensors';
}

/**
 * Reads a weights file of either format (sniffed). `source` names it in errors; default: its hub file name.
 * Floating-point tensors holding NaN or ±Infinity are refused (checkFiniteTensors).
 */
export function readCheckpoint(bytes: Uint8Array, source?: string): CheckpointFile {
  const format = sniffCheckpointFormat(bytes, source);
  const name = source ?? CHECKPOINT_FILE_NAMES[format];
  const file = format === 'torch' ? readTorchCheckpoint(bytes, name) : readSafetensors(bytes, name);
  checkFiniteTensors(file.tensors, name);
  return file;
}
