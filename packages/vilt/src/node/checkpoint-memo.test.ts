import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONTENT_MEMO, contentMemoOf, PumerError } from '@pumer/core';
import { settledCheckpointCopy, settledTime } from '@pumer/testkit/node';
import { afterAll, describe, expect, it } from 'vitest';
import { checkpointMemoDirFromEnv } from './checkpoint-memo.js';
import { loadVilt } from './load.js';

const root = mkdtempSync(join(tmpdir(), 'pumer-checkpoint-memo-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const WEIGHTS = 'model.safetensors';
let n = 0;
/** A private copy of the tiny checkpoint (modified an hour ago) and a fresh memo folder. */
function checkpoint(): { dir: string; memo: string } {
  const dir = settledCheckpointCopy('tiny-vilt-shapes', join(root, `ckpt-${++n}`));
  return { dir, memo: join(root, `memo-${n}`) };
}

/** Rewrites the weights file in place (same inode and size) and gives it back its mtime: its identity is kept. */
function rewriteKeepingIdentity(file: string, change: (bytes: Buffer) => void): void {
  const before = statSync(file);
  const bytes = readFileSync(file);
  change(bytes);
  writeFileSync(file, bytes);
  utimesSync(file, before.atime, before.mtime);
  expect(statSync(file).ino).toBe(before.ino);
}

/** Zeroes the safetensors header: any read of the weights now fails. */
const unreadable = (bytes: Buffer) => bytes.fill(0, 0, 64);

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

describe('the checkpoint memo (a warm start reads no weights)', () => {
  it('remembers a full load; the next load of unchanged files reads the weights only when first used', () => {
    const { dir, memo } = checkpoint();
    const cold = loadVilt(dir, { memo });
    expect(readdirSync(memo)).toHaveLength(1);
    const warm = loadVilt(dir, { memo });
    expect(warm.config).toEqual(cold.config);
    expect(warm.model.geometry).toEqual(cold.model.geometry);
    expect(warm.model.labels).toEqual(cold.model.labels);
    expect(warm.tokenizer.encode('what shape is it?')).toEqual(cold.tokenizer.encode('what shape is it?'));
    expect(warm.model.weights.textNorm.bias.data).toEqual(cold.model.weights.textNorm.bias.data);
  });

  it('does not read the weights file on a warm load: a damaged file (identity kept) fails at first use, clearly', () => {
    const { dir, memo } = checkpoint();
    loadVilt(dir, { memo });
    rewriteKeepingIdentity(join(dir, WEIGHTS), unreadable);
    const warm = loadVilt(dir, { memo });
    expect(warm.model.geometry.numLayers).toBeGreaterThan(0);
    const err = thrown(() => warm.model.weights);
    expect(err).toBeInstanceOf(PumerError);
    expect((err as PumerError).message).toContain(dir);
    expect((err as PumerError).message).toContain(WEIGHTS);
  });

  it('reads, checks and hashes again a file that was touched or changed (new mtime)', () => {
    const { dir, memo } = checkpoint();
    loadVilt(dir, { memo });
    const file = join(dir, WEIGHTS);
    rewriteKeepingIdentity(file, unreadable);
    const later = new Date(settledTime().getTime() + 60_000);
    utimesSync(file, later, later);
    // Not remembered as these files: read now, and its error is the load's.
    expect(() => loadVilt(dir, { memo })).toThrow(PumerError);
  });

  it('hands backends a content memo that the next load of the same files remembers', () => {
    const { dir, memo } = checkpoint();
    const cold = loadVilt(dir, { memo });
    const coldMemo = contentMemoOf(cold.model)!;
    expect(coldMemo.get('test-hash/1')).toBeUndefined();
    coldMemo.set('test-hash/1', 'abc123');
    const warm = contentMemoOf(loadVilt(dir, { memo }).model)!;
    expect(warm.get('test-hash/1')).toBe('abc123');
    // The memo is not part of the model's enumerable content (spreads and JSON do not carry it).
    expect(Object.keys(cold.model)).not.toContain(String(CONTENT_MEMO));
    expect(CONTENT_MEMO in { ...cold.model }).toBe(false);
  });

  it("keys on config.json's and the labels' contents: either edited, the checkpoint is loaded afresh", () => {
    const { dir, memo } = checkpoint();
    const cold = loadVilt(dir, { memo });
    contentMemoOf(cold.model)!.set('test-hash/1', 'before');
    const relabelled = loadVilt(dir, { memo, labels: cold.model.labels.map((l) => `${l}?`) });
    expect(contentMemoOf(relabelled.model)!.get('test-hash/1')).toBeUndefined();
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, layer_norm_eps: 1e-6 }));
    const edited = loadVilt(dir, { memo });
    expect(contentMemoOf(edited.model)!.get('test-hash/1')).toBeUndefined();
    expect(edited.model.geometry).not.toEqual(cold.model.geometry);
    expect(contentMemoOf(loadVilt(dir, { memo }).model)).not.toBeNull();
  });

  it('remembers nothing for files modified moments ago (they could change again unseen), nor with memo: false', () => {
    const { dir, memo } = checkpoint();
    const now = new Date();
    utimesSync(join(dir, WEIGHTS), now, now);
    loadVilt(dir, { memo });
    expect(existsSync(memo)).toBe(false);
    expect(contentMemoOf(loadVilt(dir, { memo }).model)).toBeNull();
    const other = checkpoint();
    loadVilt(other.dir, { memo: false });
    expect(existsSync(other.memo)).toBe(false);
  });

  it('lives in .checkpoints of the graph cache folder, and is off with it', () => {
    expect(checkpointMemoDirFromEnv({ PUMER_GRAPH_CACHE: '/x/graphs' })).toBe(
      join('/x/graphs', '.checkpoints'),
    );
    expect(checkpointMemoDirFromEnv({ PUMER_GRAPH_CACHE: 'off' })).toBeNull();
    expect(checkpointMemoDirFromEnv({ PUMER_CACHE: '/c' })).toBe(join('/c', 'graphs', '.checkpoints'));
    expect(checkpointMemoDirFromEnv({ XDG_CACHE_HOME: '/xdg' })).toBe(
      join('/xdg', 'pumer', 'graphs', '.checkpoints'),
    );
  });
});
