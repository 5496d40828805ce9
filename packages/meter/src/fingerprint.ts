/**
 * A model id from the weights' contents, so the same weights get the same id wherever they were read from
 * (backends cache compiled graphs under it) without the caller naming them. FNV-1a over every byte of files
 * up to FULL_HASH_BYTES; larger ones (a full METER is 1.3 GB) hash one SAMPLE_BYTES slice of every
 * SAMPLE_STRIDE bytes, plus the length, which still tells apart any two checkpoints one would load.
 */

const FULL_HASH_BYTES = 64 << 20;
const SAMPLE_STRIDE = 1 << 16;
const SAMPLE_BYTES = 256;

function fnv1a(bytes: Uint8Array, seed: number, full: boolean): number {
  let h = seed >>> 0;
  const mix = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      h ^= bytes[i];
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  };
  if (full) mix(0, bytes.length);
  else
    for (let at = 0; at < bytes.length; at += SAMPLE_STRIDE)
      mix(at, Math.min(at + SAMPLE_BYTES, bytes.length));
  return h;
}

/** `meter:<length>:<hash>` of a weights file's bytes. */
export function weightsFingerprint(bytes: Uint8Array): string {
  const full = bytes.length <= FULL_HASH_BYTES;
  const a = fnv1a(bytes, 0x811c9dc5, full).toString(16).padStart(8, '0');
  const b = fnv1a(bytes, 0x3c6ef372, full).toString(16).padStart(8, '0');
  return `meter:${bytes.length}:${a}${b}`;
}
