import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { ContentMemo } from '@pumer/core';
import type { ViltConfig } from '../config.js';

/**
 * What a checkpoint's last full load found, remembered on disk so the next process need not read its weights
 * to start (like ccache's manifests): the parsed configuration (which the tensors' names and shapes help
 * shape) and the content hashes backends computed (content memos, @pumer/core). An entry is named by the
 * weights files' identity (real path, size, mtime, inode; any change gives another name, so the next load
 * reads, checks and hashes the files again), config.json's and the labels' contents and this library's
 * version. Entries are written only after a load that read and validated every weight, so a damaged file never
 * gets one. They live in `.checkpoints` of the graph cache's folder (skipped by its pruning) and are a few
 * hundred bytes each.
 */

/** Set to a folder to move the graph cache (and this memo) there, or to `off` to disable both. */
const GRAPH_CACHE_ENV = 'PUMER_GRAPH_CACHE';
const DISABLED = new Set(['off', '0', 'false', 'no', 'none']);
const FORMAT = 'pumer-checkpoint-memo/1';
const FOLDER = '.checkpoints';

/**
 * The memo's folder: `.checkpoints` in the graph cache folder @pumer/backend-node's graphCacheDirFromEnv
 * picks by the same rules ($PUMER_GRAPH_CACHE, else $PUMER_CACHE/graphs, else ~/.cache/pumer/graphs); null
 * when PUMER_GRAPH_CACHE disables the cache.
 */
export function checkpointMemoDirFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | null {
  const set = env[GRAPH_CACHE_ENV]?.trim();
  if (set) return DISABLED.has(set.toLowerCase()) ? null : path.join(path.resolve(set), FOLDER);
  if (env['PUMER_CACHE']) return path.join(path.resolve(env['PUMER_CACHE']), 'graphs', FOLDER);
  const base = env['XDG_CACHE_HOME'] || path.join(os.homedir(), '.cache');
  return path.join(base, 'pumer', 'graphs', FOLDER);
}

/** One stored memo. */
interface MemoEntry {
  readonly format: string;
  readonly config: ViltConfig;
  readonly contentHashes: Readonly<Record<string, string>>;
}

let libraryVersion: string | undefined;

function viltVersion(): string {
  if (libraryVersion === undefined) {
    const require = createRequire(import.meta.url);
    libraryVersion = (require('@pumer/vilt/package.json') as { version: string }).version;
  }
  return libraryVersion;
}

/**
 * Files modified this recently are not remembered: a file rewritten in place with the same size within the
 * file system's timestamp granularity would keep its identity (git's "racily clean" entries, ccache's "too new"
 * files). Two seconds cover the coarsest common granularity (FAT's).
 */
const RACY_MS = 2000;

/** A file's identity (any write, replacement or move changes it), or null when it was modified too recently. */
function fileIdentity(file: string, now: number): string | null {
  const st = statSync(file, { bigint: true });
  if (Number(st.mtimeMs) > now - RACY_MS) return null;
  return `${realpathSync(file)}|${st.size}|${st.mtimeNs}|${st.dev}:${st.ino}`;
}

/** What names a checkpoint's memo: everything that shapes what its load gives but the tokenizer and preprocessor. */
export interface CheckpointMemoKey {
  /** The weights files (a single file, or a sharded index and its shards). */
  readonly weightFiles: readonly string[];
  /** config.json, parsed. */
  readonly config: unknown;
  /** The labels replacing config.json's, if any. */
  readonly labels: readonly string[] | undefined;
}

/** The memo of one checkpoint (as it is now on disk) in folder `dir`. */
export class CheckpointMemo implements ContentMemo {
  private readonly file: string;
  private entry: MemoEntry | null;

  private constructor(
    readonly dir: string,
    name: string,
  ) {
    this.file = path.join(dir, `${name}.json`);
    this.entry = this.read();
  }

  /** The memo for these files as they are now, or null when a file cannot be stat'ed or was just modified. */
  static open(dir: string, key: CheckpointMemoKey): CheckpointMemo | null {
    const now = Date.now();
    const files: string[] = [];
    try {
      for (const file of key.weightFiles) {
        const id = fileIdentity(file, now);
        if (id === null) return null;
        files.push(id);
      }
    } catch {
      return null;
    }
    const name = createHash('sha256')
      .update(JSON.stringify([FORMAT, viltVersion(), files, key.config, key.labels ?? null]))
      .digest('hex')
      .slice(0, 40);
    return new CheckpointMemo(dir, name);
  }

  private read(): MemoEntry | null {
    try {
      const entry = JSON.parse(readFileSync(this.file, 'utf8')) as MemoEntry;
      if (entry.format !== FORMAT || typeof entry.config !== 'object' || entry.config === null) return null;
      return { ...entry, contentHashes: { ...entry.contentHashes } };
    } catch {
      return null;
    }
  }

  /** The configuration the last full load of these files parsed, if one was remembered. */
  get config(): ViltConfig | null {
    return this.entry?.config ?? null;
  }

  /** Remembers a full load's configuration (keeping the content hashes of one with the same configuration). */
  remember(config: ViltConfig): void {
    const same = this.entry !== null && JSON.stringify(this.entry.config) === JSON.stringify(config);
    this.write({ format: FORMAT, config, contentHashes: same ? this.entry!.contentHashes : {} });
  }

  /** Forgets these files (e.g. their weights no longer match what was remembered). */
  forget(): void {
    this.entry = null;
    rmSync(this.file, { force: true });
  }

  get(kind: string): string | undefined {
    return this.entry?.contentHashes[kind];
  }

  set(kind: string, hash: string): void {
    if (this.entry === null || this.entry.contentHashes[kind] === hash) return;
    this.write({ ...this.entry, contentHashes: { ...this.entry.contentHashes, [kind]: hash } });
  }

  /** Writes the entry (a temporary file renamed into place); a memo that cannot be written is only slower. */
  private write(entry: MemoEntry): void {
    this.entry = entry;
    const tmp = `${this.file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
    try {
      mkdirSync(this.dir, { recursive: true });
      writeFileSync(tmp, `${JSON.stringify(entry)}\n`);
      renameSync(tmp, this.file);
    } catch {
      rmSync(tmp, { force: true });
    }
  }
}
