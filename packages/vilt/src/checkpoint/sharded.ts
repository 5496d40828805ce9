import { PumerError } from '@pumer/core';
import { readCheckpoint } from './read.js';
import type { CheckpointFile, CheckpointTensor } from './tensors.js';

/**
 * Sharded checkpoints (Hugging Face `save_pretrained` with a size limit): an index
 * `model.safetensors.index.json` or `pytorch_model.bin.index.json` of the form
 * `{"metadata": {...}, "weight_map": {tensor name: shard file name}}`, beside the shard files. Each shard is a
 * complete file of its format; the merged checkpoint is every shard's tensors, each exactly once.
 */

/** The index file names a hub repository may carry, in the order they are looked for. */
export const SHARD_INDEX_FILE_NAMES = [
  'model.safetensors.index.json',
  'pytorch_model.bin.index.json',
] as const;

/** A sharded checkpoint, already read: the parsed index and each shard's bytes by file name. */
export interface ShardedWeights {
  /** The index JSON, parsed. */
  readonly index: unknown;
  readonly shards: ReadonlyMap<string, Uint8Array>;
  /** Names the index in error messages (default "model.safetensors.index.json"). */
  readonly indexName?: string;
}

function fail(source: string, message: string): never {
  throw new PumerError('CHECKPOINT', `${source}: ${message}`);
}

/** The index's weight map (tensor → shard), validated: shard names must be plain file names. */
export function shardWeightMap(
  index: unknown,
  source: string = SHARD_INDEX_FILE_NAMES[0],
): ReadonlyMap<string, string> {
  if (index === null || typeof index !== 'object' || Array.isArray(index))
    fail(source, 'must be a JSON object');
  const weightMap = (index as Record<string, unknown>)['weight_map'];
  if (weightMap === null || typeof weightMap !== 'object' || Array.isArray(weightMap))
    fail(source, 'field "weight_map" must be an object of tensor name → shard file');
  const map = new Map<string, string>();
  for (const [name, shard] of Object.entries(weightMap as Record<string, unknown>)) {
    if (typeof shard !== 'string' || shard.length === 0)
      fail(source, `weight_map["${name}"] must be a shard file name`);
    // Shards sit beside the index: a path could reach outside the checkpoint.
    if (/[/\\]/.test(shard as string) || shard === '.' || shard === '..')
      fail(source, `weight_map["${name}"] = ${JSON.stringify(shard)} is not a plain file name`);
    map.set(name, shard as string);
  }
  if (map.size === 0) fail(source, 'weight_map is empty');
  return map;
}

/** The distinct shard files an index lists, in first-mention order. */
export function shardFileNames(index: unknown, source: string = SHARD_INDEX_FILE_NAMES[0]): string[] {
  return [...new Set(shardWeightMap(index, source).values())];
}

/**
 * Reads and merges the shards of an index. Every tensor the index lists must be in the shard it names; a
 * tensor held by two shards, or a shard the index lists but `shards` lacks, is an error.
 */
export function readShardedCheckpoint(weights: ShardedWeights): CheckpointFile {
  const source = weights.indexName ?? SHARD_INDEX_FILE_NAMES[0];
  const weightMap = shardWeightMap(weights.index, source);
  const tensors = new Map<string, CheckpointTensor>();
  const holder = new Map<string, string>();
  for (const shard of new Set(weightMap.values())) {
    const bytes = weights.shards.get(shard);
    if (!bytes) fail(source, `shard "${shard}" is listed in weight_map but missing`);
    for (const [name, tensor] of readCheckpoint(bytes as Uint8Array, shard).tensors) {
      const first = holder.get(name);
      if (first) fail(source, `tensor "${name}" is in two shards, "${first}" and "${shard}"`);
      holder.set(name, shard);
      tensors.set(name, tensor);
    }
  }
  for (const [name, shard] of weightMap) {
    const actual = holder.get(name);
    if (actual === undefined)
      fail(source, `tensor "${name}" is listed in shard "${shard}" but not found there`);
    if (actual !== shard)
      fail(source, `tensor "${name}" is listed in shard "${shard}" but found in "${actual}"`);
  }
  return { tensors, metadata: {} };
}
