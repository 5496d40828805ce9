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
 */

/** Set to a folder to move the cache there, or to `off` (or 0, false, no, none) to disable it. */
export const GRAPH_CACHE_ENV = 'PUMER_GRAPH_CACHE';

/** Written into every manifest; bump when the entry layout changes. */
const ENTRY_FORMAT = 'pumer-graph-cache/1';
const MANIFEST = 'entry.json';
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
      // Recently used entries are the last to be pruned.
      const now = new Date();
      try {
        utimesSync(path.join(entry, MANIFEST), now, now);
      } catch {
        // A read-only cache still serves.
      }
      return { found: 'entry', onnxPath: path.join(entry, ONNX_FILE) };
    }
    this.removeEntry(entry);
    return { found: 'damaged', why };
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
    try {
      const size = statSync(path.join(entry, GRAPH_DATA_FILE)).size;
      if (size !== want.dataBytes) return `${GRAPH_DATA_FILE} is ${size} bytes, expected ${want.dataBytes}`;
    } catch {
      return `no ${GRAPH_DATA_FILE}`;
    }
    return null;
  }

  /**
   * Writes the graph's entry (in a temporary folder renamed into place, manifest last) and returns its .onnx
   * path. If another process stored the same entry meanwhile, that one is used.
   */
  store(key: string, laid: ExternalDataModel): string {
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
    this.prune(name);
    return path.join(entry, ONNX_FILE);
  }

  /** Removes a graph's entry (e.g. one the runtime refused to load). */
  remove(key: string, laid: ExternalDataModel): void {
    this.removeEntry(path.join(this.dir, this.entryName(key, laid)));
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
