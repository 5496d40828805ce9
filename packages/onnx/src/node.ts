import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { GraphBuilder } from './builder.js';

/** Writes a graph as a .onnx file (Node only; the browser-safe builder is `@pumer/onnx/graph`). */
export async function writeOnnx(graph: GraphBuilder | Uint8Array, path: string): Promise<number> {
  const bytes = graph instanceof Uint8Array ? graph : graph.toOnnxBytes();
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
  return bytes.byteLength;
}
