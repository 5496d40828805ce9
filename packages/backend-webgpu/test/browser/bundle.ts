import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** Bundles the test page (backend + core + onnx + vilt + @pumer/testkit's runners) into one browser ESM file. */
export async function bundlePage(): Promise<string> {
  const entry = fileURLToPath(new URL('./page.ts', import.meta.url));
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    conditions: ['@pumer/source'],
    // Reached only from Node code paths (dynamic imports that never run in a page).
    external: ['node:*', '@pumer/backend-node', 'onnxruntime-node', 'webgpu'],
    logLevel: 'error',
  });
  return result.outputFiles[0]!.text;
}
