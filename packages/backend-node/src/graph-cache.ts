import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ExternalDataModel } from '@pumer/onnx/graph';
import { writeExternalData } from '@pumer/onnx/node';

/**
 * The on-disk graph cache: whole-model graphs written once as ONNX with external data (a small model.onnx and
 * its weights in model.onnx.data) and loaded by later processes straight from disk, so a warm start skips
 * deriving, serialising and copying the weights. An entry's name is a hash of everything that shapes the
 * graph: the graph's key (the model's content fingerprint, head, geometry, schedule), the .onnx bytes (every
 * node and small constant, so a change to the graph code gives another entry) and the library version.
 * An entry is written in a temporary folder and renamed into place, and checked on every lookup (its
 * manifest, the .onnx bytes, the weights file's size); a damaged one is removed and rebuilt.
 * A warm start must not build the graph (nor read the model's weights) only to name its entry: a key index
 * (`.keys/<hash of version and key>.json`) names the entry stored for a graph key, with what the caller needs
 * back with the session (e.g. each layer's plan), and `find` opens an entry by key alone. The library version
 * includes a hash of @pumer/onnx's code (content-key.ts), so new graph code does not find old graphs.
 */

/** Set to a folder to move the cache there, or to `off` (or 0, false, no, none) to disable it. */
export const GRAPH_CACHE_ENV = 'PUMER_GRAPH_CACHE';

/** Written into every manifest; bump when the entry layout changes. */
const ENTRY_FORMAT = 'pumer-graph-cache/1';
const MANIFEST = 'entry.json';
/** The key index's folder (a dot name: not an entry, never pruned as one). */
const KEYS = '.keys';
const ONNX_FILE = 'model.onnx';
/** The weights file's name, as the .onnx's external data records it (relative to the .onnx). */
export const GRAPH_DATA_FILE = 'model.onnx.data';
/** Default bound on the cache's size: the oldest entries go first (a ViLT-B/32 graph is ~360 MB). */
export const DEFAULT_GRAPH_CACHE_BYTES = 4 * 1024 ** 3;

const DISABLED = new Set(['off', '0', 'false', 'no', 'none']);

/**
 * The cache folder the environment asks for: $PUMER_GRAPH_CACHE, else `graphs` under $PUMER_CACHE, else
 * `pumer/graphs` under $XDG_CACHE_HOME or ~/.cache; null when PUMER_GRAPH_CACHE disables it.
 */
export function graphCacheDirFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | null {
  const set = env[GRAPH_CACHE_ENV]?.trim();
  if (set) return DISABLED.has(set.toLowerCase()) ? null : path.resolve(set);
  if (env['PUMER_CACHE']) return path.join(path.resolve(env['PUMER_CACHE']), 'graphs');
  const base = env['XDG_CACHE_HOME'] || path.join(os.homedir(), '.cache');
  return path.join(base, 'pumer', 'graphs');
}

interface Manifest {
  readonly format: string;
  readonly version: string;
  readonly key: string;
  readonly onnxSha256: string;
  readonly dataBytes: number;
}

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** What a lookup found: a usable entry, nothing, or a damaged entry (now removed). */
export type GraphCacheLookup =
  | { readonly found: 'entry'; readonly onnxPath: string }
  | { readonly found: 'none' }
  | { readonly found: 'damaged'; readonly why: string };

/** What a lookup by key alone found: an entry (and what was stored with it), nothing, or a damaged entry. */
export type GraphCacheFind =
  | { readonly found: 'entry'; readonly onnxPath: string; readonly about: unknown }
  | { readonly found: 'none' }
  | { readonly found: 'damaged'; readonly why: string };

/** One key index file: the entry stored for a key and what came with it. */
interface KeyIndex {
  readonly format: string;
  readonly version: string;
  readonly key: string;
  readonly entry: string;
  readonly about: unknown;
}

export class GraphDiskCache {
  constructor(
    readonly dir: string,
    /** Library version(s) the graphs were written by: a new version writes new entries. */
    readonly version: string,
    readonly maxBytes: number = DEFAULT_GRAPH_CACHE_BYTES,
  ) {}

  /** The entry name of a graph laid out as `laid` under `key`. */
  entryName(key: string, laid: ExternalDataModel): string {
    return sha256(`${ENTRY_FORMAT}\n${this.version}\n${key}\n${sha256(laid.model)}`).slice(0, 40);
  }

  private manifest(key: string, laid: ExternalDataModel): Manifest {
    return {
      format: ENTRY_FORMAT,
      version: this.version,
      key,
      onnxSha256: sha256(laid.model),
      dataBytes: laid.dataBytes,
    };
  }

  /** The stored entry of this graph if it is whole; a damaged one is removed and reported. */
  lookup(key: string, laid: ExternalDataModel): GraphCacheLookup {
    const entry = path.join(this.dir, this.entryName(key, laid));
    if (!existsSync(entry)) return { found: 'none' };
    const why = this.damage(entry, this.manifest(key, laid), laid);
    if (why === null) {
      this.touch(entry);
      return { found: 'entry', onnxPath: path.join(entry, ONNX_FILE) };
    }
    this.removeEntry(entry);
    return { found: 'damaged', why };
  }

  private keyIndexPath(key: string): string {
    return path.join(
      this.dir,
      KEYS,
      `${sha256(`${ENTRY_FORMAT}\n${this.version}\n${key}`).slice(0, 40)}.json`,
    );
  }

  /**
   * The entry stored for `key`, found by key alone (no graph built): checked as `lookup` checks, but against
   * its own manifest (the .onnx's hash, the weights file's size). A damaged entry is removed and reported.
   */
  find(key: string): GraphCacheFind {
    const indexPath = this.keyIndexPath(key);
    let index: KeyIndex;
    try {
      index = JSON.parse(readFileSync(indexPath, 'utf8')) as KeyIndex;
    } catch {
      return { found: 'none' };
    }
    if (index.format !== ENTRY_FORMAT || index.version !== this.version || index.key !== key)
      return { found: 'none' };
    if (typeof index.entry !== 'string' || !/^[0-9a-f]{40}$/.test(index.entry)) {
      rmSync(indexPath, { force: true });
      return { found: 'none' };
    }
    const entry = path.join(this.dir, index.entry);
    if (!existsSync(entry)) {
      // Pruned since: the index is stale.
      rmSync(indexPath, { force: true });
      return { found: 'none' };
    }
    const why = this.storedDamage(entry, key);
    if (why !== null) {
      this.removeEntry(entry);
      rmSync(indexPath, { force: true });
      return { found: 'damaged', why };
    }
    this.touch(entry);
    return { found: 'entry', onnxPath: path.join(entry, ONNX_FILE), about: index.about };
  }

  /** Why the entry at `entry` (found by key) cannot be used, or null when its files match its manifest. */
  private storedDamage(entry: string, key: string): string | null {
    let manifest: Partial<Manifest>;
    try {
      manifest = JSON.parse(readFileSync(path.join(entry, MANIFEST), 'utf8')) as Partial<Manifest>;
    } catch {
      return 'no readable manifest';
    }
    if (manifest.format !== ENTRY_FORMAT || manifest.version !== this.version || manifest.key !== key)
      return 'manifest does not match the key';
    let onnx: Buffer;
    try {
      onnx = readFileSync(path.join(entry, ONNX_FILE));
    } catch {
      return `no ${ONNX_FILE}`;
    }
    if (sha256(onnx) !== manifest.onnxSha256) return `${ONNX_FILE} differs from the stored graph`;
    return this.dataDamage(entry, manifest.dataBytes);
  }

  private dataDamage(entry: string, dataBytes: number | undefined): string | null {
    try {
      const size = statSync(path.join(entry, GRAPH_DATA_FILE)).size;
      if (size !== dataBytes) return `${GRAPH_DATA_FILE} is ${size} bytes, expected ${dataBytes}`;
    } catch {
      return `no ${GRAPH_DATA_FILE}`;
    }
    return null;
  }

  /** Records that `key`'s graph is in entry `name`, with `about` (a write that fails only costs a build). */
  index(key: string, name: string, about: unknown): void {
    const file = this.keyIndexPath(key);
    const tmp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
    const index: KeyIndex = { format: ENTRY_FORMAT, version: this.version, key, entry: name, about };
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(tmp, `${JSON.stringify(index)}\n`);
      renameSync(tmp, file);
    } catch {
      rmSync(tmp, { force: true });
    }
  }

  private touch(entry: string): void {
    // Recently used entries are the last to be pruned.
    const now = new Date();
    try {
      utimesSync(path.join(entry, MANIFEST), now, now);
    } catch {
      // A read-only cache still serves.
    }
  }

  /** Why the entry at `entry` cannot be used, or null when it matches the expected manifest and files. */
  private damage(entry: string, want: Manifest, laid: ExternalDataModel): string | null {
    let manifest: unknown;
    try {
      manifest = JSON.parse(readFileSync(path.join(entry, MANIFEST), 'utf8'));
    } catch {
      return 'no readable manifest';
    }
    if (JSON.stringify(manifest) !== JSON.stringify(want)) return 'manifest does not match the graph';
    let onnx: Buffer;
    try {
      onnx = readFileSync(path.join(entry, ONNX_FILE));
    } catch {
      return `no ${ONNX_FILE}`;
    }
    if (onnx.byteLength !== laid.model.byteLength || !onnx.equals(laid.model))
      return `${ONNX_FILE} differs from the graph`;
    return this.dataDamage(entry, want.dataBytes);
  }

  /**
   * Writes the graph's entry (in a temporary folder renamed into place, manifest last) and returns its .onnx
   * path. If another process stored the same entry meanwhile, that one is used. With `about`, the key index
   * records the entry for `find`.
   */
  store(key: string, laid: ExternalDataModel, about?: unknown): string {
    mkdirSync(this.dir, { recursive: true });
    const name = this.entryName(key, laid);
    const entry = path.join(this.dir, name);
    const tmp = path.join(this.dir, `.tmp-${name}-${process.pid}-${randomBytes(4).toString('hex')}`);
    mkdirSync(tmp);
    try {
      writeExternalData(laid, path.join(tmp, ONNX_FILE), GRAPH_DATA_FILE);
      writeFileSync(path.join(tmp, MANIFEST), `${JSON.stringify(this.manifest(key, laid))}\n`);
      try {
        renameSync(tmp, entry);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
        // Stored by another process first: keep that one.
        rmSync(tmp, { recursive: true, force: true });
      }
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
    if (about !== undefined) this.index(key, name, about);
    this.prune(name);
    return path.join(entry, ONNX_FILE);
  }

  /** Removes a graph's entry (e.g. one the runtime refused to load). */
  remove(key: string, laid: ExternalDataModel): void {
    this.removeEntry(path.join(this.dir, this.entryName(key, laid)));
  }

  /** Removes the entry whose .onnx is at `onnxPath` (as `find` gave it; e.g. one the runtime refused). */
  removeFound(onnxPath: string): void {
    const entry = path.dirname(onnxPath);
    if (path.dirname(entry) === this.dir) this.removeEntry(entry);
  }

  private removeEntry(entry: string): void {
    rmSync(entry, { recursive: true, force: true });
  }

  /** Drops the least recently used entries (never `keep`) until the cache fits in maxBytes. */
  private prune(keep: string): void {
    const entries: { name: string; bytes: number; used: number }[] = [];
    for (const name of readdirSync(this.dir)) {
      if (name.startsWith('.')) continue;
      try {
        const manifest = statSync(path.join(this.dir, name, MANIFEST));
        let bytes = 0;
        for (const f of readdirSync(path.join(this.dir, name)))
          bytes += statSync(path.join(this.dir, name, f)).size;
        entries.push({ name, bytes, used: manifest.mtimeMs });
      } catch {
        // Being written or removed by another process.
      }
    }
    let total = entries.reduce((s, e) => s + e.bytes, 0);
    for (const e of entries.sort((a, b) => a.used - b.used)) {
      if (total <= this.maxBytes) break;
      if (e.name === keep) continue;
      this.removeEntry(path.join(this.dir, e.name));
      total -= e.bytes;
    }
  }
}
