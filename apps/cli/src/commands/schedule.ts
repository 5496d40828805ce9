import {
  type MeterGeometry,
  type MeterSchedule,
  meterSchedule,
  type ResolvedSchedule,
  type Schedule,
  schedule,
} from '@pumer/core';
import { fixed, gflops, mib, table } from '../format.js';
import { DEFAULT_GEOMETRY, findGeometry } from '../geometries.js';
import { CliError } from '../errors.js';
import { type CliIO, colorsFor, writeJson } from '../io.js';
import { hasOverrideFlags, type ScheduleFlags, scheduleFromFlags, scheduleLine } from '../schedule-flags.js';

export interface ScheduleCommandOptions extends ScheduleFlags {
  /** A geometry of GEOMETRIES or METER_GEOMETRIES (default vilt-b32). */
  geometry?: string;
  json?: boolean;
}

/** The whole-model totals both schedule reports end with, next to the unreduced ones. */
export type ScheduleTotals = Pick<
  Schedule,
  | 'flops'
  | 'baselineFlops'
  | 'idealSpeedup'
  | 'peakActivationBytes'
  | 'baselinePeakActivationBytes'
  | 'totalActivationBytes'
  | 'baselineTotalActivationBytes'
>;

/** The totals of a ViLT or METER schedule, in the reports' order. */
function scheduleTotals(s: ScheduleTotals): ScheduleTotals {
  return {
    flops: s.flops,
    baselineFlops: s.baselineFlops,
    idealSpeedup: s.idealSpeedup,
    peakActivationBytes: s.peakActivationBytes,
    baselinePeakActivationBytes: s.baselinePeakActivationBytes,
    totalActivationBytes: s.totalActivationBytes,
    baselineTotalActivationBytes: s.baselineTotalActivationBytes,
  };
}

export interface ScheduleReport extends ScheduleTotals {
  geometry: { name: string } & Schedule['geometry'];
  schedule: ResolvedSchedule;
  layers: {
    layer: number;
    kind: string;
    textIn: number;
    imageIn: number;
    textOut: number;
    imageOut: number;
    flops: number;
    activationBytes: number;
  }[];
}

/** METER's figures (core's meterSchedule): per co-attention step, plus the unreduced encoders. */
export interface MeterScheduleReport extends ScheduleTotals {
  geometry: { name: string; family: 'meter' } & MeterGeometry;
  schedule: ResolvedSchedule;
  /** The padded text window and the image tokens per image the figures are for. */
  textTokens: number;
  imageTokens: number;
  encoders: MeterSchedule['encoders'];
  steps: {
    step: number;
    kind: string;
    textIn: number;
    imageIn: number;
    textOut: number;
    imageOut: number;
    textLayerFlops: number;
    imageLayerFlops: number;
    flops: number;
    activationBytes: number;
  }[];
  coAttentionFlops: number;
  baselineCoAttentionFlops: number;
  coAttentionIdealSpeedup: number;
}

/**
 * There is no checkpoint here, so no `model` default: the paper's schedule (METER: the authors' VQA one), or
 * with only flags given an empty one, so that exactly what was typed applies.
 */
function defaultScheduleName(opts: ScheduleCommandOptions, paper: string): string {
  return opts.schedule ?? (hasOverrideFlags(opts) ? 'unreduced' : paper);
}

/** METER's per-step figures for a schedule in co-attention steps. */
export function meterScheduleReport(
  opts: ScheduleCommandOptions,
  name: string,
  geometry: MeterGeometry,
): MeterScheduleReport {
  const resolved = scheduleFromFlags(
    { ...opts, schedule: defaultScheduleName(opts, 'meter-vqa') },
    geometry.numSteps,
    null,
    'meter',
  );
  const s = meterSchedule(geometry, resolved.config);
  return {
    geometry: { name, family: 'meter', ...geometry },
    schedule: resolved,
    textTokens: s.textTokens,
    imageTokens: s.imageTokens,
    encoders: s.encoders,
    steps: s.steps.map((x) => ({
      step: x.step,
      kind: x.plan.kind,
      textIn: x.plan.textIn,
      imageIn: x.plan.imageIn,
      textOut: x.textTokens,
      imageOut: x.imageTokens,
      textLayerFlops: x.textLayerFlops,
      imageLayerFlops: x.imageLayerFlops,
      flops: x.flops,
      activationBytes: x.activationBytes,
    })),
    coAttentionFlops: s.coAttentionFlops,
    baselineCoAttentionFlops: s.baselineCoAttentionFlops,
    coAttentionIdealSpeedup: s.coAttentionIdealSpeedup,
    ...scheduleTotals(s),
  };
}

/** Token counts, FLOPs and activation memory per layer for a schedule, from core's scheduler: no model runs. */
export function scheduleReport(opts: ScheduleCommandOptions): ScheduleReport {
  const geometryName = opts.geometry ?? DEFAULT_GEOMETRY;
  const found = findGeometry(geometryName);
  if (found.family !== 'vilt') {
    throw new CliError(`geometry "${geometryName}" is a METER geometry: use meterScheduleReport`);
  }
  const geometry = found.geometry;
  const name = defaultScheduleName(opts, 'paper');
  const resolved = scheduleFromFlags({ ...opts, schedule: name }, geometry.numLayers);
  const s = schedule(geometry, resolved.config);
  return {
    geometry: { name: geometryName, ...geometry },
    schedule: resolved,
    layers: s.layers.map((l) => ({
      layer: l.layer,
      kind: l.plan.kind,
      textIn: l.plan.textIn,
      imageIn: l.plan.imageIn,
      textOut: l.textTokens,
      imageOut: l.imageTokens,
      flops: l.flops,
      activationBytes: l.activationBytes,
    })),
    ...scheduleTotals(s),
  };
}

function printMeterSchedule(report: MeterScheduleReport, io: CliIO): void {
  const c = colorsFor(io, false);
  const g = report.geometry;
  io.out(
    `${c.bold('geometry')} ${g.name}: METER, ${g.numSteps} co-attention steps (hidden ${g.hiddenSize}) after a ${g.text.numLayers}-layer RoBERTa and a ${g.image.numBlocks}-block CLIP ViT (not reduced), ${report.textTokens} text + ${report.imageTokens} image tokens\n`,
  );
  io.out(`${c.bold('schedule')} ${scheduleLine(report.schedule, 'meter')}\n\n`);
  io.out(
    table(
      ['step', 'kind', 'text in→out', 'image in→out', 'text GFLOPs', 'image GFLOPs', 'act. MiB'],
      report.steps.map((x) => [
        String(x.step),
        x.kind,
        `${x.textIn}→${x.textOut}`,
        `${x.imageIn}→${x.imageOut}`,
        gflops(x.textLayerFlops),
        gflops(x.imageLayerFlops),
        mib(x.activationBytes),
      ]),
    ),
  );
  io.out('\n');
  io.out(
    `encoder GFLOPs           ${gflops(report.encoders.flops)} (text ${gflops(report.encoders.textFlops)}, image ${gflops(report.encoders.imageFlops)}; not reduced)\n`,
  );
  io.out(
    `co-attention GFLOPs      ${gflops(report.coAttentionFlops)} (unreduced ${gflops(report.baselineCoAttentionFlops)})\n`,
  );
  io.out(`GFLOPs per example       ${gflops(report.flops)} (unreduced ${gflops(report.baselineFlops)})\n`);
  io.out(
    `ideal speed-up           ${c.green(`${fixed(report.idealSpeedup, 3)}×`)} whole model (co-attention alone ${fixed(report.coAttentionIdealSpeedup, 3)}×; FLOPs ratios)\n`,
  );
  io.out(
    `peak step activation MiB ${mib(report.peakActivationBytes)} (unreduced ${mib(report.baselinePeakActivationBytes)})\n`,
  );
  io.out(
    `all-step activation MiB  ${mib(report.totalActivationBytes)} (unreduced ${mib(report.baselineTotalActivationBytes)}, ${fixed(100 * (1 - report.totalActivationBytes / report.baselineTotalActivationBytes), 1)}% less)\n`,
  );
}

export async function scheduleCommand(opts: ScheduleCommandOptions, io: CliIO): Promise<void> {
  const found = findGeometry(opts.geometry ?? DEFAULT_GEOMETRY);
  if (found.family === 'meter') {
    const report = meterScheduleReport(opts, found.name, found.geometry);
    if (opts.json) writeJson(io, report);
    else printMeterSchedule(report, io);
    return;
  }
  const report = scheduleReport(opts);
  if (opts.json) {
    writeJson(io, report);
    return;
  }
  const c = colorsFor(io, false);
  io.out(
    `${c.bold('geometry')} ${report.geometry.name}: ${report.geometry.numLayers} layers, hidden ${report.geometry.hiddenSize}, ${report.geometry.textTokens} text + ${report.geometry.imageTokens} image tokens\n`,
  );
  io.out(`${c.bold('schedule')} ${scheduleLine(report.schedule)}\n\n`);
  io.out(
    table(
      ['layer', 'kind', 'text in→out', 'image in→out', 'GFLOPs', 'act. MiB'],
      report.layers.map((l) => [
        String(l.layer),
        l.kind,
        `${l.textIn}→${l.textOut}`,
        `${l.imageIn}→${l.imageOut}`,
        gflops(l.flops),
        mib(l.activationBytes),
      ]),
    ),
  );
  io.out('\n');
  io.out(`GFLOPs per example       ${gflops(report.flops)} (unreduced ${gflops(report.baselineFlops)})\n`);
  io.out(`ideal speed-up           ${c.green(`${fixed(report.idealSpeedup, 3)}×`)} (FLOPs ratio)\n`);
  io.out(
    `peak activation MiB      ${mib(report.peakActivationBytes)} (unreduced ${mib(report.baselinePeakActivationBytes)})\n`,
  );
  io.out(
    `all-layer activation MiB ${mib(report.totalActivationBytes)} (unreduced ${mib(report.baselineTotalActivationBytes)}, ${fixed(100 * (1 - report.totalActivationBytes / report.baselineTotalActivationBytes), 1)}% less)\n`,
  );
}
