import { createRequire } from 'node:module';
import { dirname } from 'node:path';

/** onnxruntime-web's dist folder (its .wasm and .mjs files), to serve to pages or copy into builds. */
export function ortDistDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('onnxruntime-web/webgpu'));
}
