import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';

const require = createRequire(import.meta.url);
const viltDir = dirname(require.resolve('@pumer/vilt/package.json'));

const demoAssets = join(dirname(fileURLToPath(import.meta.url)), 'assets');

/**
 * What the demo fetches at run time, by URL folder: the embedded tiny PuMer checkpoints (VQA from
 * @pumer/vilt; NLVR2 and retrieval from this app's assets/) and the bundled examples of each task (VQA
 * images with their questions, NLVR2 pairs with their statements, the retrieval gallery with its captions).
 * Served by the dev server and copied into the production build, so `dist/` works from any static server. onnxruntime-web's .wasm needs no copying here: its module locates it with
 * `new URL('ort-wasm-simd-threaded.asyncify.wasm', import.meta.url)`, which Vite turns into an emitted asset.
 */
const RUNTIME_FILES: Record<string, { dir: string; files: string[] }> = {
  model: { dir: join(viltDir, 'assets', 'tiny-vilt-shapes-pumer'), files: [] },
  images: { dir: join(viltDir, 'assets', 'images'), files: [] },
  'nlvr2-model': { dir: join(demoAssets, 'tiny-vilt-shapes-nlvr2-pumer'), files: [] },
  'nlvr2-pairs': { dir: join(demoAssets, 'shapes-nlvr2'), files: [] },
  'retrieval-model': { dir: join(demoAssets, 'tiny-vilt-shapes-retrieval-pumer'), files: [] },
  'retrieval-gallery': { dir: join(demoAssets, 'shapes-retrieval'), files: [] },
};

function filesOf(folder: string): string[] {
  const entry = RUNTIME_FILES[folder]!;
  if (entry.files.length > 0) return entry.files;
  return readdirSync(entry.dir).filter((f) => statSync(join(entry.dir, f)).isFile());
}

const TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.png': 'image/png',
  '.safetensors': 'application/octet-stream',
};

function demoRuntimeFiles(): Plugin {
  return {
    name: 'pumer-demo-runtime-files',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = decodeURIComponent((req.url ?? '').split('?')[0]!);
        const [, folder, name] = /^\/([^/]+)\/([^/]+)$/.exec(path) ?? [];
        if (!folder || !name || !Object.hasOwn(RUNTIME_FILES, folder) || !filesOf(folder).includes(name))
          return next();
        const file = join(RUNTIME_FILES[folder]!.dir, name);
        if (!existsSync(file)) return next();
        res.setHeader('content-type', TYPES[extname(name)] ?? 'application/octet-stream');
        res.end(readFileSync(file));
      });
    },
    generateBundle() {
      for (const folder of Object.keys(RUNTIME_FILES)) {
        for (const name of filesOf(folder)) {
          this.emitFile({
            type: 'asset',
            fileName: `${folder}/${name}`,
            source: readFileSync(join(RUNTIME_FILES[folder]!.dir, name)),
          });
        }
      }
    },
  };
}

export default defineConfig({
  // Relative URLs everywhere: the build works from any folder of any static server.
  base: './',
  // Workspace packages are read from source (their exports map has a '@pumer/source' condition).
  resolve: { conditions: ['@pumer/source', ...defaultClientConditions] },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: { target: 'es2022', chunkSizeWarningLimit: 2048 },
  plugins: [demoRuntimeFiles()],
});
