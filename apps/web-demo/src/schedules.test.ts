import { createCpuBackend } from '@pumer/backend-cpu';
import { scheduleNames } from '@pumer/core';
import { createVqaPipeline, defaultModelDir, type LoadedVilt, loadVilt } from '@pumer/vilt/node';
import { describe, expect, it } from 'vitest';
import { scheduleFromFlags } from '../../cli/src/schedule-flags.js';
import { demoSchedule, scheduleOptions } from './schedules.js';

/**
 * One resolver for every consumer: for every schedule name core knows, on 6 and 12 layers, with and without
 * a checkpoint schedule, the pipeline (`info().schedule`), the CLI (its flag helper) and this demo resolve
 * the same config, each through its own code path.
 */
const embedded = loadVilt(defaultModelDir());
const backend = createCpuBackend();

/** The embedded checkpoint presented at another depth and with another own schedule (nothing here runs it). */
function variant(numLayers: number, withSchedule: boolean): LoadedVilt {
  return {
    ...embedded,
    config: { ...embedded.config, geometry: { ...embedded.config.geometry, numLayers } },
    reduction: withSchedule ? embedded.reduction : null,
  };
}

const cases = [6, 12].flatMap((depth) =>
  [true, false].flatMap((withSchedule) =>
    scheduleNames('vilt').map((name) => ({ name, depth, withSchedule })),
  ),
);

describe('pipeline, CLI and web demo resolve every schedule alike', () => {
  it.each(cases)(
    '$name on $depth layers (checkpoint schedule: $withSchedule)',
    async ({ name, depth, withSchedule }) => {
      const model = variant(depth, withSchedule);
      const pipeline = (await createVqaPipeline({ model, backend, reduction: name })).info().schedule;
      const cli = scheduleFromFlags({ schedule: name }, depth, model.reduction);
      const demo = demoSchedule(name, depth, model.reduction);
      expect(cli).toEqual(pipeline);
      expect(demo).toEqual(pipeline);
      if (name === 'model') expect(pipeline.config).toEqual(withSchedule ? embedded.reduction : null);
    },
  );

  it('the demo menu lists the checkpoint schedule first, then every registered one, with its layers', () => {
    expect(scheduleOptions(6, embedded.reduction)).toEqual([
      { value: 'model', label: "model's own (layers 1, 3)" },
      { value: 'unreduced', label: 'unreduced (off)' },
      { value: 'paper', label: 'paper (layers 1, 2, 4)' },
      { value: 'pumer', label: 'pumer (layers 1, 3)' },
      { value: 'aggressive', label: 'aggressive (layers 0, 2, 4)' },
      { value: 'vqa', label: 'vqa (layers 1, 2, 4)' },
      { value: 've', label: 've (layers 1, 2, 3, 4)' },
      { value: 'nlvr2', label: 'nlvr2 (layers 1, 2, 4)' },
    ]);
    expect(scheduleOptions(12, null)[0]).toEqual({ value: 'model', label: "model's own (off)" });
  });

  it("a METER model's menu: its own schedule, unreduced and the METER schedules, in steps", () => {
    const own = { ...embedded.reduction!, reduceLayers: [1] };
    expect(scheduleOptions(2, own, 'meter')).toEqual([
      { value: 'model', label: "model's own (steps 1)" },
      { value: 'unreduced', label: 'unreduced (off)' },
      { value: 'meter-vqa', label: 'meter-vqa (steps 0, 1)' },
      { value: 'meter-ve', label: 'meter-ve (steps 0, 1)' },
      { value: 'meter-nlvr2', label: 'meter-nlvr2 (steps 0, 1)' },
    ]);
    // A ViLT name is not offered for METER, and asking for one anyway is the resolver's error.
    expect(() => demoSchedule('paper', 6, null, 'meter')).toThrow(/ViLT schedule, not for a METER model/);
    expect(() => demoSchedule('meter-ve', 6, null)).toThrow(/METER schedule, not for a ViLT model/);
  });
});
