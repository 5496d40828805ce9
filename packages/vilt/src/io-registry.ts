import type { ImageDecoder } from './image.js';
import type { LoadedVilt } from './model.js';

/**
 * The two hooks `@pumer/vilt/node` installs (an image decoder for bytes and paths, a checkpoint-directory
 * loader). Kept on globalThis under a registered symbol so that every copy of this module — the ESM and CJS
 * builds, or each entry's bundle — sees the same hooks.
 */
export interface IoHooks {
  imageDecoder: ImageDecoder | null;
  checkpointLoader: ((dir: string) => LoadedVilt) | null;
}

const KEY = Symbol.for('@pumer/vilt/io-hooks');

export function ioHooks(): IoHooks {
  const g = globalThis as { [KEY]?: IoHooks };
  g[KEY] ??= { imageDecoder: null, checkpointLoader: null };
  return g[KEY];
}
