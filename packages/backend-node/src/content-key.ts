import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { ViltModel } from '@pumer/core';
import { walkModelContent } from '@pumer/onnx';

/**
 * What keys this backend's graphs: a model's content (SHA-256 over @pumer/onnx's content walk: geometry,
 * labels, every weight's shape and bytes; native, so a ViLT-B's 357 MB hash in a fraction of a second, and
 * strong enough to name files on disk), and the versions of the libraries that write and read the graphs.
 */

const fingerprints = new WeakMap<ViltModel, string>();

/** The model's content hash (32 hex digits), memoised per model object. */
export function contentFingerprint(model: ViltModel): string {
  let hit = fingerprints.get(model);
  if (hit === undefined) {
    const h = createHash('sha256');
    walkModelContent(model, {
      text: (s) => h.update(`${s}\n`),
      floats: (d) => h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)),
    });
    hit = h.digest('hex').slice(0, 32);
    fingerprints.set(model, hit);
  }
  return hit;
}

let version: string | undefined;

/** The graph writer's and runtime's versions: @pumer/onnx, @pumer/backend-node, onnxruntime-node. */
export function graphLibraryVersion(): string {
  if (version === undefined) {
    const require = createRequire(import.meta.url);
    const of = (spec: string) => (require(spec) as { version: string }).version;
    version = [
      `@pumer/onnx@${of('@pumer/onnx/package.json')}`,
      `@pumer/backend-node@${of('../package.json')}`,
      `onnxruntime-node@${of('onnxruntime-node/package.json')}`,
    ].join(' ');
  }
  return version;
}
