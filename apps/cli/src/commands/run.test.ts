import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { namedSchedule, schedule } from '@pumer/core';
import { bundledImages } from '@pumer/vilt/node';
import { describe, expect, it } from 'vitest';
import { TINY_GEOMETRY } from '../geometries.js';
import { runCli, unscheduledCheckpoint } from '../testing.js';

const circles = bundledImages().find((i) => i.question === 'how many circles are there?')!;

describe('pumer run', () => {
  it('with no arguments answers "how many circles are there?" about a bundled image with the embedded model', async () => {
    const r = await runCli([]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('question how many circles are there?');
    expect(r.stdout).toMatch(new RegExp(`^answer\\s+${circles.answer}\\s`, 'm'));
    expect(r.stdout).toContain(
      "schedule model: layers 1,3 prune 0.1 merge 0.3 text 0.2 first_head/tip (the checkpoint's own schedule)",
    );
    // auto, the default, is onnxruntime-node in Node: one line says so and why.
    expect(r.stdout).toMatch(/^backend\s+node \(cpu\): auto: the best registered backend of node, cpu$/m);
  });

  it('--json: answer, scores, and tokens per layer as the scheduler predicts', async () => {
    const r = await runCli([
      'run',
      '--image',
      circles.path,
      '--question',
      circles.question,
      '--json',
      '--top-k',
      '3',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.answer).toBe(circles.answer);
    expect(json.answers).toHaveLength(3);
    expect(json.answers[0].label).toBe(json.answer);
    expect(json.score).toBe(json.answers[0].score);
    expect(json.schedule.config.reduceLayers).toEqual([1, 3]);
    expect(json.backend).toMatchObject({
      name: 'node',
      provider: 'cpu',
      reason: expect.stringMatching(/^auto: /),
    });
    const predicted = schedule(TINY_GEOMETRY, namedSchedule('pumer', 6)).layers;
    expect(json.layers.map((l: { textOut: number; imageOut: number }) => [l.textOut, l.imageOut])).toEqual(
      predicted.map((l) => [l.textTokens, l.imageTokens]),
    );
    expect(json.latencyMs).toBeGreaterThan(0);
  });

  it('reports the start-up phases apart from the answer: --json fields and one text line', async () => {
    // A schedule no other test here runs, so this process compiles its graph now (not from memory).
    const args = ['run', '--image', circles.path, '--question', circles.question, '--schedule', 'aggressive'];
    const r = await runCli([...args, '--text-merge', '0.15', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { startup, latencyMs } = JSON.parse(r.stdout);
    expect(startup.graphCache).toMatch(/^(hit|miss|rebuilt)$/);
    for (const phase of ['readWeightsMs', 'buildGraphMs', 'createSessionMs', 'firstRunMs', 'timeToAnswerMs'])
      expect(startup[phase], phase).toBeGreaterThan(0);
    expect(startup.hashWeightsMs).toBeGreaterThanOrEqual(0);
    expect(startup.writeGraphMs).toBeGreaterThanOrEqual(0);
    expect(startup.peakRssMiB).toBeGreaterThan(10);
    // The answer's own latency leaves out the one-off graph build and session creation.
    expect(latencyMs).toBeGreaterThan(0);
    expect(latencyMs).toBeLessThan(startup.timeToAnswerMs - startup.readWeightsMs - startup.createSessionMs);
    // Run again in this process: a new model object whose graph this process already compiled.
    const text = await runCli([...args, '--text-merge', '0.15']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      /^startup\s+read weights \d+\.\d\d s · hash weights \d+\.\d\d s · build graph 0\.00 s · create session 0\.00 s · graph cache memory · first run \d+\.\d\d s · answer after \d+\.\d\d s · peak RSS \d+ MiB$/m,
    );
  });

  it('--schedule off runs unreduced; custom ratios apply on top of a schedule', async () => {
    const off = JSON.parse((await runCli(['run', '--schedule', 'off', '--json'])).stdout);
    expect(off.schedule.config).toBeNull();
    expect(off.layers.every((l: { kind: string }) => l.kind === 'none')).toBe(true);
    const custom = JSON.parse(
      (
        await runCli([
          'run',
          '--layers',
          '0,2',
          '--prune',
          '0.3',
          '--merge',
          '0.2',
          '--text-merge',
          '0',
          '--json',
        ])
      ).stdout,
    );
    expect(custom.schedule).toMatchObject({
      name: 'custom',
      config: { reduceLayers: [0, 2], pruneRatio: 0.3, mergeRatio: 0.2, textMergeRatio: 0 },
    });
    expect(custom.layers[0].kind).toBe('pumer');
  });

  it('--schedule paper on the 6-layer model scales to layers 1,2,4', async () => {
    const r = await runCli(['run', '--schedule', 'paper', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.schedule).toMatchObject({ name: 'paper', config: { reduceLayers: [1, 2, 4] } });
    expect(json.schedule.description).toMatch(/scaled to 6 layers$/);
    expect(
      json.layers.filter((l: { kind: string }) => l.kind !== 'none').map((l: { layer: number }) => l.layer),
    ).toEqual([1, 2, 4]);
  });

  it('--backend cpu runs on the TypeScript reference and says it was asked for', async () => {
    const r = await runCli(['run', '--backend', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^backend\s+cpu \(typescript\): requested with --backend cpu$/m);
  });

  it('model on a checkpoint without a schedule runs unreduced and says so', async () => {
    const plain = await unscheduledCheckpoint();
    const r = await runCli(['run', '--model', plain]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('schedule model: no reduction (the checkpoint has no schedule: no reduction)');
    const json = JSON.parse((await runCli(['run', '--model', plain, '--json'])).stdout);
    expect(json.schedule).toEqual({
      name: 'model',
      config: null,
      description: 'the checkpoint has no schedule: no reduction',
    });
  });

  it('missing image, missing model, unreadable model, bad image: one line, exit 2', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'pumer-run-'));
    writeFileSync(path.join(tmp, 'config.json'), '{ not json');
    const notImage = path.join(tmp, 'notes.png');
    writeFileSync(notImage, 'hello');
    const cases: [string[], RegExp][] = [
      [['run', '--image', path.join(tmp, 'nope.png')], /image not found: .*nope\.png/],
      [['run', '--model', path.join(tmp, 'no-model')], /model directory not found/],
      [['run', '--model', tmp], /cannot read model/],
      [['run', '--image', notImage], /notes\.png|image/i],
    ];
    for (const [argv, pattern] of cases) {
      const r = await runCli(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^pumer: error: /);
      expect(lines[0]).toMatch(pattern);
    }
  });
});
