import { PumerError } from '@pumer/core';
import { describe, expect, it } from 'vitest';
import { writeSafetensors } from '../safetensors.js';
import { torchSave } from '../testing/torch-save.js';
import { readShardedCheckpoint, shardFileNames } from './sharded.js';
import type { CheckpointTensor } from './tensors.js';

function shardError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PumerError);
    expect((err as PumerError).code).toBe('CHECKPOINT');
    return (err as Error).message;
  }
  throw new Error('expected a PumerError');
}

const a: CheckpointTensor = { dtype: 'F32', shape: [2], data: Float32Array.from([1, 2]) };
const b: CheckpointTensor = { dtype: 'F32', shape: [1], data: Float32Array.from([3]) };
const ids: CheckpointTensor = { dtype: 'I64', shape: [2], data: BigInt64Array.from([0n, 1n]) };

const shard1 = writeSafetensors({ a, ids });
const shard2 = torchSave(new Map([['b', b]]));
const index = {
  metadata: { total_size: 20 },
  weight_map: {
    a: 'model-00001-of-00002.safetensors',
    ids: 'model-00001-of-00002.safetensors',
    b: 'part2.bin',
  },
};
const shards = new Map([
  ['model-00001-of-00002.safetensors', shard1],
  ['part2.bin', shard2],
]);

describe('sharded checkpoints', () => {
  it('merges the shards an index lists, whatever their format', () => {
    expect(shardFileNames(index)).toEqual(['model-00001-of-00002.safetensors', 'part2.bin']);
    const file = readShardedCheckpoint({ index, shards });
    expect(file.tensors).toEqual(
      new Map<string, CheckpointTensor>([
        ['a', a],
        ['ids', ids],
        ['b', b],
      ]),
    );
  });

  it('names a missing shard', () => {
    const only = new Map([...shards].slice(0, 1));
    expect(
      shardError(() =>
        readShardedCheckpoint({ index, shards: only, indexName: 'pytorch_model.bin.index.json' }),
      ),
    ).toMatch(/pytorch_model.bin.index.json: shard "part2.bin" is listed in weight_map but missing/);
  });

  it('refuses a tensor held by two shards, or not where the index says', () => {
    const twice = new Map([
      ...shards,
      [
        'part2.bin',
        torchSave(
          new Map([
            ['b', b],
            ['a', a],
          ]),
        ),
      ],
    ]);
    expect(shardError(() => readShardedCheckpoint({ index, shards: twice }))).toMatch(
      /tensor "a" is in two shards, "model-00001-of-00002.safetensors" and "part2.bin"/,
    );
    const absent = { weight_map: { ...index.weight_map, c: 'part2.bin' } };
    expect(shardError(() => readShardedCheckpoint({ index: absent, shards }))).toMatch(
      /tensor "c" is listed in shard "part2.bin" but not found there/,
    );
    const twoInPart2 = new Map([
      ...shards,
      [
        'part2.bin',
        torchSave(
          new Map([
            ['b', b],
            ['c', b],
          ]),
        ),
      ],
    ]);
    const moved = {
      weight_map: {
        a: 'model-00001-of-00002.safetensors',
        b: 'model-00001-of-00002.safetensors',
        c: 'part2.bin',
      },
    };
    expect(shardError(() => readShardedCheckpoint({ index: moved, shards: twoInPart2 }))).toMatch(
      /tensor "b" is listed in shard "model-00001-of-00002.safetensors" but found in "part2.bin"/,
    );
  });

  it('refuses a malformed index and shard names that are paths', () => {
    expect(shardError(() => shardFileNames([]))).toMatch(/must be a JSON object/);
    expect(shardError(() => shardFileNames({ metadata: {} }))).toMatch(/"weight_map" must be an object/);
    expect(shardError(() => shardFileNames({ weight_map: {} }))).toMatch(/weight_map is empty/);
    expect(shardError(() => shardFileNames({ weight_map: { a: 3 } }))).toMatch(
      /weight_map\["a"\] must be a shard file name/,
    );
    for (const path of ['../secret.bin', '/etc/passwd', 'sub\\x.bin', '..']) {
      expect(shardError(() => shardFileNames({ weight_map: { a: path } }))).toMatch(
        /is not a plain file name/,
      );
    }
  });
});
