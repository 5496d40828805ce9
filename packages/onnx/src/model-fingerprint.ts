import type { ViltModel } from '@pumer/core';

/**
 * A content fingerprint of a ViltModel: its geometry, its labels and a hash of every weight tensor's shape and
 * bytes. Compiled whole-model graphs bake the weights in, so they must be cached under what shapes them, not
 * under `model.id` (a weights file's path, size and mtime): two checkpoints sharing a weights file but not a
 * config.json, or a config.json edited in a running process, share an id but not a graph. Computed once per
 * model object (memoised in a WeakMap; a model's tensors are not expected to change in place afterwards).
 */

const fingerprints = new WeakMap<ViltModel, string>();

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

/** Walks the weights in a fixed order (sorted keys), hashing every number, null and tensor on the way. */
function hashValue(h: Hasher, path: string, v: unknown): void {
  if (v === null || v === undefined || typeof v !== 'object') {
    h.text(`${path}=${String(v)}`);
    return;
  }
  if (isFloatTensor(v)) {
    h.text(`${path}:[${v.shape.join(',')}]`);
    const d = v.data;
    h.words(new Uint32Array(d.buffer, d.byteOffset, d.length));
    return;
  }
  if (Array.isArray(v)) {
    h.text(`${path}#${v.length}`);
    for (let i = 0; i < v.length; i++) hashValue(h, `${path}[${i}]`, v[i]);
    return;
  }
  for (const key of Object.keys(v).sort())
    hashValue(h, `${path}.${key}`, (v as Record<string, unknown>)[key]);
}

/** The model's content fingerprint (16 hex digits), computed on first use and memoised per model object. */
export function modelFingerprint(model: ViltModel): string {
  let hit = fingerprints.get(model);
  if (hit === undefined) {
    const h = new Hasher();
    h.text(JSON.stringify(model.geometry, Object.keys(model.geometry).sort()));
    h.text(JSON.stringify(model.labels));
    hashValue(h, 'weights', model.weights);
    hit = h.digest();
    fingerprints.set(model, hit);
  }
  return hit;
}
