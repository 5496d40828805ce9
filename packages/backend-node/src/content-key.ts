import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { contentMemoOf, type ViltModel } from '@pumer/core';
import { walkModelContent } from '@pumer/onnx';

/**
 * What keys this backend's graphs: a model's content (SHA-256 over @pumer/onnx's content walk: geometry,
 * labels, every weight's shape and bytes; native, so a ViLT-B's 357 MB hash in a fraction of a second, and
 * strong enough to name files on disk), and the versions of the libraries that write and read the graphs.
 * A model whose loader attached a content memo (@pumer/core's CONTENT_MEMO: checkpoint files unchanged since
 * they were hashed) is not walked: the memo's hash is used, and a hash computed here is handed to it.
 */

/** This hash's kind in a content memo: bump when the walk or the hash changes. */
export const CONTENT_HASH_KIND = 'sha256-content-walk/1';

const fingerprints = new WeakMap<ViltModel, string>();

/** The model's content hash (32 hex digits), memoised per model object. */
export function contentFingerprint(model: ViltModel): string {
  let hit = fingerprints.get(model);
  if (hit !== undefined) return hit;
  const memo = contentMemoOf(model);
  hit = memo?.get(CONTENT_HASH_KIND);
  if (hit === undefined) {
    const h = createHash('sha256');
    walkModelContent(model, {
      text: (s) => h.update(`${s}\n`),
      floats: (d) => h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)),
    });
    hit = h.digest('hex').slice(0, 32);
    memo?.set(CONTENT_HASH_KIND, hit);
  }
  fingerprints.set(model, hit);
  return hit;
}

let version: string | undefined;

/**
 * A hash of @pumer/onnx's built code (the .js and .cjs files beside its entry point), or '' when it has none:
 * graphs are found by key without being built (graph-cache.ts, `find`), so graph code changed without a
 * version bump (a development checkout) must not find the graphs older code wrote.
 */
function graphCodeHash(require: NodeJS.Require): string {
  try {
    const dir = path.dirname(require.resolve('@pumer/onnx'));
    const h = createHash('sha256');
    for (const name of readdirSync(dir).sort())
      if (/\.c?js$/.test(name)) h.update(`${name}\n`).update(readFileSync(path.join(dir, name)));
    return `+${h.digest('hex').slice(0, 12)}`;
  } catch {
    return '';
  }
}

/**
 * The graph writer's and runtime's versions: @pumer/onnx (with a hash of its code), @pumer/backend-node,
 * onnxruntime-node.
 */
export function graphLibraryVersion(): string {
  if (version === undefined) {
    const require = createRequire(import.meta.url);
    const of = (spec: string) => (require(spec) as { version: string }).version;
    version = [
      `@pumer/onnx@${of('@pumer/onnx/package.json')}${graphCodeHash(require)}`,
      `@pumer/backend-node@${of('../package.json')}`,
      `onnxruntime-node@${of('onnxruntime-node/package.json')}`,
    ].join(' ');
  }
  return version;
}
