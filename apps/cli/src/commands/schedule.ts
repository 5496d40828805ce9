import { type ResolvedSchedule, type Schedule, schedule } from '@pumer/core';
import { fixed, gflops, mib, table } from '../format.js';
import { DEFAULT_GEOMETRY, geometryByName } from '../geometries.js';
import { type CliIO, colorsFor, writeJson } from '../io.js';
import { hasOverrideFlags, type ScheduleFlags, scheduleFromFlags, scheduleLine } from '../schedule-flags.js';

export interface ScheduleCommandOptions extends ScheduleFlags {
  /** A geometry of GEOMETRIES (default vilt-b32). */
  geometry?: string;
  json?: boolean;
}

export interface ScheduleReport {
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
  flops: number;
  baselineFlops: number;
  idealSpeedup: number;
  peakActivationBytes: number;
  baselinePeakActivationBytes: number;
  totalActivationBytes: number;
  baselineTotalActivationBytes: number;
}

/** Token counts, FLOPs and activation memory per layer for a schedule, from core's scheduler: no model runs. */
export function scheduleReport(opts: ScheduleCommandOptions): ScheduleReport {
  const geometryName = opts.geometry ?? DEFAULT_GEOMETRY;
  const geometry = geometryByName(geometryName);
  // There is no checkpoint here, so no `model` default: the paper's schedule, or with only flags given an
  // empty one, so that exactly what was typed applies.
  const name = opts.schedule ?? (hasOverrideFlags(opts) ? 'unreduced' : 'paper');
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
    flops: s.flops,
    baselineFlops: s.baselineFlops,
    idealSpeedup: s.idealSpeedup,
    peakActivationBytes: s.peakActivationBytes,
    baselinePeakActivationBytes: s.baselinePeakActivationBytes,
    totalActivationBytes: s.totalActivationBytes,
    baselineTotalActivationBytes: s.baselineTotalActivationBytes,
  };
}

export async function scheduleCommand(opts: ScheduleCommandOptions, io: CliIO): Promise<void> {
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
