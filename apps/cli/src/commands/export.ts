import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describeSchedule, type ResolvedSchedule } from '@pumer/core';
import type { ViltGraph } from '@pumer/onnx/graph';
import { CliError } from '../errors.js';
import { table } from '../format.js';
import { type CliIO, colorsFor, writeJson } from '../io.js';
import { isMeterDir, loadMeterModel, loadModel } from '../loaders.js';
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
  /** 'meter' for a METER checkpoint; absent: ViLT. */
  family?: 'meter';
  file: string;
  bytes: number;
  model: string;
  schedule: ResolvedSchedule;
  /** 'batch' when dynamic, else the fixed batch size. */
  batch: number | 'batch';
  /** The graph's inputs and outputs: what a runtime feeds and fetches. */
  inputs: GraphValue[];
  outputs: GraphValue[];
  nodes: number;
}

export interface GraphValue {
  name: string;
  /** ONNX element type by our dtype name (float32, int32, int64, bool), else `elemType N`. */
  dtype: string;
  /** Fixed sizes as numbers, symbolic ones (the dynamic batch) by name. */
  shape: (number | string)[];
}

type Dim = { dimValue: number } | { dimParam: string };
interface ValueInfo {
  name: string;
  type: { tensorType: { elemType: number; shape: { dim: Dim[] } } };
}

const dims = (v: ValueInfo) =>
  v.type.tensorType.shape.dim.map((d) => ('dimValue' in d ? d.dimValue : d.dimParam));

function graphValue(v: ValueInfo, dtypes: Readonly<Record<string, number>>): GraphValue {
  const elemType = v.type.tensorType.elemType;
  const dtype = Object.entries(dtypes).find(([, code]) => code === elemType)?.[0] ?? `elemType ${elemType}`;
  return { name: v.name, dtype, shape: dims(v) };
}

/** The whole reduced graph of a checkpoint, ViLT or METER, and what the file's doc string says of it. */
async function buildGraph(
  modelDir: string,
  schedule: string,
): Promise<{
  graph: { toModel(doc: string): ReturnType<ViltGraph['graph']['toModel']> };
  resolved: ResolvedSchedule;
  doc: string;
  family: 'vilt' | 'meter';
}> {
  const onnx = await import('@pumer/onnx/graph');
  if (await isMeterDir(modelDir)) {
    const loaded = await loadMeterModel(modelDir);
    const g = loaded.model.geometry;
    const resolved = scheduleFromFlags({ schedule }, g.numSteps, loaded.reduction, 'meter');
    // The text window the tokenizer pads to: what the pipelines feed.
    const built = onnx.buildMeterGraph(loaded.model, loaded.tokenizer.window, resolved.config);
    return {
      graph: built.graph,
      resolved,
      doc: `PuMer.js METER ${path.basename(modelDir)}, schedule ${resolved.name}: ${describeSchedule(resolved.config, 'meter')}`,
      family: 'meter',
    };
  }
  const loaded = await loadModel(modelDir);
  const g = loaded.config.geometry;
  const resolved = scheduleFromFlags({ schedule }, g.numLayers, loaded.reduction);
  const grid = g.imageSize / g.patchSize;
  const built = onnx.buildViltGraph(
    loaded.model,
    { textLen: g.maxTextLength, gridH: grid, gridW: grid },
    resolved.config,
  );
  return {
    graph: built.graph,
    resolved,
    doc: `PuMer.js ViLT ${path.basename(modelDir)}, schedule ${resolved.name}: ${describeSchedule(resolved.config)}`,
    family: 'vilt',
  };
}

/** The reduced model (reduce steps inside the graph, trace outputs included) as one .onnx file. */
export async function exportModel(opts: ExportCommandOptions, io: CliIO): Promise<ExportReport> {
  const modelDir = path.resolve(io.cwd, opts.model);
  const out = path.resolve(io.cwd, opts.out);
  const { ONNX_DTYPE } = await import('@pumer/onnx/graph');
  const { encodeModel } = await import('@pumer/onnx');
  const { graph, resolved, doc, family } = await buildGraph(modelDir, opts.schedule);
  const proto = graph.toModel(doc);
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
    ...(family === 'meter' ? { family } : {}),
    file: out,
    bytes: bytes.byteLength,
    model: modelDir,
    schedule: resolved,
    batch: opts.batchDynamic ? 'batch' : opts.batch,
    inputs: (proto.graph.input as unknown as ValueInfo[]).map((v) => graphValue(v, ONNX_DTYPE)),
    outputs: (proto.graph.output as unknown as ValueInfo[]).map((v) => graphValue(v, ONNX_DTYPE)),
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
  io.out(`schedule ${scheduleLine(r.schedule, r.family)}\n`);
  io.out(`batch    ${r.batch === 'batch' ? 'dynamic' : r.batch}\n`);
  io.out('\n');
  io.out(
    table(
      ['', 'name', 'dtype', 'shape'],
      [
        ...r.inputs.map((v) => ['input', v.name, v.dtype, `[${v.shape.join(', ')}]`]),
        ...r.outputs.map((v) => ['output', v.name, v.dtype, `[${v.shape.join(', ')}]`]),
      ],
    ),
  );
}
