import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describeSchedule, type ResolvedSchedule } from '@pumer/core';
import { CliError } from '../errors.js';
import { type CliIO, colorsFor, writeJson } from '../io.js';
import { loadModel } from '../loaders.js';
import { scheduleFromFlags, scheduleLine } from '../schedule-flags.js';

export interface ExportCommandOptions {
  model: string;
  out: string;
  schedule: string;
  batchDynamic?: boolean;
  batch: number;
  json?: boolean;
}

export interface ExportReport {
  file: string;
  bytes: number;
  model: string;
  schedule: ResolvedSchedule;
  /** 'batch' when dynamic, else the fixed batch size. */
  batch: number | 'batch';
  inputs: { name: string; shape: (number | string)[] }[];
  outputs: { name: string; shape: (number | string)[] }[];
  nodes: number;
}

type Dim = { dimValue: number } | { dimParam: string };
interface ValueInfo {
  name: string;
  type: { tensorType: { elemType: number; shape: { dim: Dim[] } } };
}

const dims = (v: ValueInfo) =>
  v.type.tensorType.shape.dim.map((d) => ('dimValue' in d ? d.dimValue : d.dimParam));

/** The reduced model (reduce steps inside the graph, trace outputs included) as one .onnx file. */
export async function exportModel(opts: ExportCommandOptions, io: CliIO): Promise<ExportReport> {
  const modelDir = path.resolve(io.cwd, opts.model);
  const out = path.resolve(io.cwd, opts.out);
  const loaded = await loadModel(modelDir);
  const g = loaded.config.geometry;
  const resolved = scheduleFromFlags({ schedule: opts.schedule }, g.numLayers, loaded.reduction);
  const { buildViltGraph } = await import('@pumer/onnx/graph');
  const { encodeModel } = await import('@pumer/onnx');
  const grid = g.imageSize / g.patchSize;
  const built = buildViltGraph(
    loaded.model,
    { textLen: g.maxTextLength, gridH: grid, gridW: grid },
    resolved.config,
  );
  const doc = `PuMer.js ViLT ${path.basename(modelDir)}, schedule ${resolved.name}: ${describeSchedule(resolved.config)}`;
  const proto = built.graph.toModel(doc);
  const io_ = [
    ...(proto.graph.input as unknown as ValueInfo[]),
    ...(proto.graph.output as unknown as ValueInfo[]),
  ];
  if (!opts.batchDynamic) {
    // The builder leaves the batch symbolic; pin it on every graph input and output.
    for (const v of io_) {
      v.type.tensorType.shape.dim = v.type.tensorType.shape.dim.map((d) =>
        'dimParam' in d && d.dimParam === 'batch' ? { dimValue: opts.batch } : d,
      );
    }
  }
  const bytes = encodeModel(proto);
  try {
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, bytes);
  } catch (err) {
    throw new CliError(`cannot write ${out}: ${(err as Error).message}`);
  }
  return {
    file: out,
    bytes: bytes.byteLength,
    model: modelDir,
    schedule: resolved,
    batch: opts.batchDynamic ? 'batch' : opts.batch,
    inputs: (proto.graph.input as unknown as ValueInfo[]).map((v) => ({ name: v.name, shape: dims(v) })),
    outputs: (proto.graph.output as unknown as ValueInfo[]).map((v) => ({ name: v.name, shape: dims(v) })),
    nodes: proto.graph.node.length,
  };
}

export async function exportCommand(opts: ExportCommandOptions, io: CliIO): Promise<void> {
  const r = await exportModel(opts, io);
  if (opts.json) {
    writeJson(io, r);
    return;
  }
  const c = colorsFor(io, false);
  io.out(`${c.green('wrote')} ${r.file} (${(r.bytes / 1024 / 1024).toFixed(2)} MiB, ${r.nodes} nodes)\n`);
  io.out(`schedule ${scheduleLine(r.schedule)}\n`);
  io.out(`batch    ${r.batch === 'batch' ? 'dynamic' : r.batch}\n`);
  for (const v of r.inputs) io.out(`input    ${v.name} [${v.shape.join(', ')}]\n`);
  for (const v of r.outputs) io.out(`output   ${v.name} [${v.shape.join(', ')}]\n`);
}
