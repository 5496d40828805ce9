import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ExternalDataModel, ExternalDataOptions, GraphBuilder } from './builder.js';

/** Writes a graph as a .onnx file (Node only; the browser-safe builder is `@pumer/onnx/graph`). */
export async function writeOnnx(graph: GraphBuilder | Uint8Array, path: string): Promise<number> {
  const bytes = graph instanceof Uint8Array ? graph : graph.toOnnxBytes();
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
  return bytes.byteLength;
}

/** What writeOnnxWithExternalData wrote. */
export interface ExternalDataFiles {
  /** The .onnx file and its size. */
  readonly onnxPath: string;
  readonly onnxBytes: number;
  /** The weights file beside it and its size. */
  readonly dataPath: string;
  readonly dataBytes: number;
}

/**
 * Writes a graph laid out with external data (`GraphBuilder.toExternalData`) to `onnxPath` and, beside it, the
 * weights file its `location` names. Tensors are written one at a time, so no buffer of all the weights is
 * ever made, and derived weights exist only while they are written. onnxruntime then loads the weights from
 * the file (mapping it where it can) instead of from a serialised copy in memory.
 */
export function writeExternalData(
  laid: ExternalDataModel,
  onnxPath: string,
  location: string,
): ExternalDataFiles {
  const dataPath = join(dirname(onnxPath), location);
  const fd = openSync(dataPath, 'w');
  try {
    for (const t of laid.tensors) {
      const bytes = t.bytes();
      let done = 0;
      while (done < bytes.byteLength)
        done += writeSync(fd, bytes, done, bytes.byteLength - done, t.offset + done);
    }
  } finally {
    closeSync(fd);
  }
  writeFileSync(onnxPath, laid.model);
  return { onnxPath, onnxBytes: laid.model.byteLength, dataPath, dataBytes: laid.dataBytes };
}

/** Writes a graph as a small .onnx plus its weights as ONNX external data in `<onnx path>.data` beside it. */
export function writeOnnxWithExternalData(
  graph: GraphBuilder,
  onnxPath: string,
  options: Omit<ExternalDataOptions, 'location'> = {},
): ExternalDataFiles {
  const location = `${basename(onnxPath)}.data`;
  return writeExternalData(graph.toExternalData({ ...options, location }), onnxPath, location);
}
