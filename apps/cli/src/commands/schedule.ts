import { type ReductionConfig, type Schedule, schedule } from '@pumer/core';
import { colorsFor, type CliIO, writeJson } from '../io.js';
import { fixed, gflops, mib, table } from '../format.js';
import {
  describeConfig,
  geometryByName,
  hasOverrides,
  resolveSchedule,
  type ScheduleOverrides,
} from '../schedules.js';

export interface ScheduleCommandOptions extends ScheduleOverrides {
  schedule?: string;
  geometry: string;
  json?: boolean;
}

export interface ScheduleReport {
  geometry: { name: string } & Schedule['geometry'];
  schedule: { name: string; config: ReductionConfig | null };
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
  const geometry = geometryByName(opts.geometry);
  // With only flags given, start from an empty schedule so that exactly what was typed applies.
  const name = opts.schedule ?? (hasOverrides(opts) ? 'unreduced' : 'paper');
  const resolved = resolveSchedule(name, opts, geometry.numLayers, null);
  const s = schedule(geometry, resolved.config);
  return {
    geometry: { name: opts.geometry, ...geometry },
    schedule: { name: resolved.name, config: resolved.config },
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
  io.out(`${c.bold('schedule')} ${report.schedule.name}: ${describeConfig(report.schedule.config)}\n\n`);
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
