import { defineConfig } from 'tsup';

export default defineConfig({
  // index: browser-safe core; node: fs, PNG/JPEG decoding, bundled assets, evaluate.
  entry: ['src/index.ts', 'src/node.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // import.meta.url (used to find assets/) is shimmed in the CJS build.
  shims: true,
});
