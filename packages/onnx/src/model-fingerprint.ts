import type { MeterModel, ViltModel } from '@pumer/core';

/**
 * A content fingerprint of a ViltModel (or MeterModel): its geometry, its labels and a hash of every weight tensor's shape and
 * bytes. Compiled whole-model graphs bake the weights in, so they must be cached under what shapes them, not
 * under `model.id` (a weights file's path, size and mtime): two checkpoints sharing a weights file but not a
 * config.json, or a config.json edited in a running process, share an id but not a graph. Computed once per
 * model object (memoised in a WeakMap; a model's tensors are not expected to change in place afterwards).
 */

const fingerprints = new WeakMap<ViltModel | MeterModel, string>();

/** 64 bits (two independent 32-bit lanes, murmur3-style mixing) over 32-bit words. */
class Hasher {
  private h1 = 0x9747b28c;
  private h2 = 0x5bd1e995;
  private length = 0;

  words(w: Uint32Array): void {
    let h1 = this.h1;
    let h2 = this.h2;
    for (let i = 0; i < w.length; i++) {
      let k = Math.imul(w[i], 0xcc9e2d51);
      k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
      h1 ^= k;
      h1 = Math.imul((h1 << 13) | (h1 >>> 19), 5) + 0xe6546b64;
      h2 = Math.imul(h2 ^ w[i], 0x85ebca77) ^ (h2 >>> 13);
    }
    this.h1 = h1;
    this.h2 = h2;
    this.length += w.length;
  }

  text(s: string): void {
    const bytes = new TextEncoder().encode(s);
    const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4 + 4);
    padded.set(bytes);
    new DataView(padded.buffer).setUint32(padded.length - 4, bytes.length, true);
    this.words(new Uint32Array(padded.buffer));
  }

  digest(): string {
    const fmix = (h: number, seed: number) => {
      let x = h ^ seed ^ this.length;
      x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
      x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
      return (x ^ (x >>> 16)) >>> 0;
    };
    const hex = (n: number) => n.toString(16).padStart(8, '0');
    return hex(fmix(this.h1, this.h2)) + hex(fmix(this.h2, this.h1));
  }
}

function isFloatTensor(v: object): v is { data: Float32Array; shape: readonly number[] } {
  return 'data' in v && (v as { data: unknown }).data instanceof Float32Array && 'shape' in v;
}

/** What a content walk feeds: labels and shapes as text, every weight's values as they are stored. */
export interface ContentSink {
  text(s: string): void;
  floats(data: Float32Array): void;
}

/** Walks the weights in a fixed order (sorted keys), feeding every number, null and tensor on the way. */
function walkValue(sink: ContentSink, path: string, v: unknown): void {
  if (v === null || v === undefined || typeof v !== 'object') {
    sink.text(`${path}=${String(v)}`);
    return;
  }
  if (isFloatTensor(v)) {
    sink.text(`${path}:[${v.shape.join(',')}]`);
    sink.floats(v.data);
    return;
  }
  if (Array.isArray(v)) {
    sink.text(`${path}#${v.length}`);
    for (let i = 0; i < v.length; i++) walkValue(sink, `${path}[${i}]`, v[i]);
    return;
  }
  for (const key of Object.keys(v).sort())
    walkValue(sink, `${path}.${key}`, (v as Record<string, unknown>)[key]);
}

/**
 * Feeds everything that shapes a model's graphs to `sink`: geometry, labels, every weight's shape and values.
 * modelFingerprint hashes it here; a Node backend hashes the same walk with a native hash (faster on a
 * ViLT-B's 90 M values, and strong enough to key files on disk).
 */
export function walkModelContent(model: ViltModel | MeterModel, sink: ContentSink): void {
  sink.text(JSON.stringify(model.geometry, Object.keys(model.geometry).sort()));
  // METER's geometry nests its encoders' (the line above keeps top-level keys only).
  if ('kind' in model && model.kind === 'meter') walkValue(sink, 'geometry', model.geometry);
  sink.text(JSON.stringify(model.labels));
  walkValue(sink, 'weights', model.weights);
}

/** The model's content fingerprint (16 hex digits), computed on first use and memoised per model object. */
export function modelFingerprint(model: ViltModel | MeterModel): string {
  let hit = fingerprints.get(model);
  if (hit === undefined) {
    const h = new Hasher();
    walkModelContent(model, {
      text: (s) => h.text(s),
      floats: (d) => h.words(new Uint32Array(d.buffer, d.byteOffset, d.length)),
    });
    hit = h.digest();
    fingerprints.set(model, hit);
  }
  return hit;
}
