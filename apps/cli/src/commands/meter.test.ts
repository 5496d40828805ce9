import { copyFileSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundledTokenizerPath } from '@pumer/meter/node';
import { decodeModel } from '@pumer/onnx';
import { evalSetPath, meterModelDir, sharedPath } from '@pumer/testkit/node';
import { bundledImages } from '@pumer/vilt/node';
import { describe, expect, it } from 'vitest';
import { runCli } from '../testing.js';

/**
 * `pumer run|eval|export|convert` on the tiny METER checkpoints of the shared data (the authors' layout,
 * pytorch_model.bin): detected by @pumer/meter, run through its pipelines, schedules over co-attention steps.
 */

const VQA = meterModelDir('tiny-meter-vqa');
const VE = meterModelDir('tiny-meter-ve');
const NLVR2 = meterModelDir('tiny-meter-nlvr2');
const [LEFT, RIGHT] = bundledImages().map((i) => i.path);
const scratch = () => mkdtempSync(path.join(os.tmpdir(), 'pumer-meter-cli-'));

async function runJson(argv: string[]) {
  const r = await runCli(['run', ...argv, '--backend', 'cpu', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

const counts = (layers: { textIn: number; imageIn: number; textOut: number; imageOut: number }[]) =>
  layers.map((l) => [l.textIn, l.imageIn, l.textOut, l.imageOut]);

describe('pumer run on METER checkpoints', () => {
  it("VQA with the checkpoint's own schedule: the authors' token counts per step", async () => {
    const r = await runJson(['--model', VQA, '--image', LEFT!, '--text', 'what color is it?']);
    expect(r).toMatchObject({ task: 'vqa', family: 'meter', question: 'what color is it?' });
    expect(r.schedule).toMatchObject({ name: 'model', config: { reduceLayers: [0, 1], pruneRatio: 0.2 } });
    expect(counts(r.layers)).toEqual([
      [16, 17, 13, 11],
      [13, 11, 10, 7],
    ]);
    expect(r.logits).toHaveLength(10);
    expect(r.logits[r.labels.indexOf(r.answer)]).toBe(Math.max(...r.logits));
  });

  it('text output: the step table and the schedule in steps; --schedule unreduced keeps every token', async () => {
    const r = await runCli(['run', '--model', VQA, '--image', LEFT!, '--backend', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^schedule model: steps 0,1 prune 0\.2 merge 0\.2 text 0\.2 /m);
    expect(r.stdout).toMatch(/^step\s+kind\s+text in→out\s+image in→out/m);
    expect(r.stdout).toMatch(/^\s+1\s+pumer\s+13→10\s+11→7\s+17$/m);
    const off = await runJson(['--model', VQA, '--image', LEFT!, '--schedule', 'unreduced']);
    expect(off.layers.map((l: { kind: string }) => l.kind)).toEqual(['none', 'none']);
  });

  it('VE with a METER schedule by name, NLVR2 with two images and one pass each', async () => {
    const ve = await runJson([
      '--model',
      VE,
      '--image',
      LEFT!,
      '--text',
      'a red circle.',
      '--schedule',
      'meter-ve',
    ]);
    expect(ve).toMatchObject({ task: 've', family: 'meter', schedule: { name: 'meter-ve' } });
    expect(ve.classes.map((c: { label: string }) => c.label)).toEqual([
      'contradiction',
      'neutral',
      'entailment',
    ]);
    expect(counts(ve.layers)).toEqual([
      [16, 17, 13, 7],
      [13, 7, 10, 3],
    ]);
    const nlvr2 = await runJson([
      '--model',
      NLVR2,
      '--image',
      LEFT!,
      '--image',
      RIGHT!,
      '--text',
      'both are red.',
    ]);
    expect(nlvr2).toMatchObject({ task: 'nlvr2', family: 'meter', images: [LEFT, RIGHT] });
    // The tiny NLVR2 checkpoint reduces at layer_idx 2 only: step 1.
    const pass = [
      [16, 17, 16, 17],
      [16, 17, 13, 7],
    ];
    expect(nlvr2.passes.map((p: { layers: never[] }) => counts(p.layers))).toEqual([pass, pass]);
  });

  it('--tokenizer takes a tokenizer.json; a missing one, a ViLT schedule or one image for NLVR2: exit 2', async () => {
    const given = await runJson([
      '--model',
      VQA,
      '--image',
      LEFT!,
      '--tokenizer',
      bundledTokenizerPath('tiny-roberta')!,
    ]);
    const own = await runJson(['--model', VQA, '--image', LEFT!]);
    expect(given.logits).toEqual(own.logits);
    const missing = await runCli(['run', '--model', VQA, '--tokenizer', '/nonexistent/tokenizer.json']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^pumer: error: cannot read model .*tokenizer/);
    const vilt = await runCli(['run', '--model', VQA, '--schedule', 'paper', '--backend', 'cpu']);
    expect(vilt.code).toBe(2);
    expect(vilt.stderr).toMatch(/"paper" is a ViLT schedule, not for a METER model/);
    const one = await runCli(['run', '--model', NLVR2, '--image', LEFT!, '--text', 'x', '--backend', 'cpu']);
    expect(one.code).toBe(2);
    expect(one.stderr).toMatch(/takes two images/);
  });
});

describe('pumer eval on METER checkpoints', () => {
  it('VQA: accuracy reduced and unreduced, their agreement, throughput', async () => {
    const r = await runCli([
      'eval',
      '--model',
      VQA,
      '--data',
      evalSetPath(),
      '--backend',
      'cpu',
      '--limit',
      '4',
      '--batch-size',
      '2',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({ task: 'vqa', family: 'meter', n: 4, schedule: { name: 'model' } });
    expect(json.predictions).toHaveLength(4);
    expect(json.unreduced.predictions).toHaveLength(4);
    expect(json.agreement).toBeGreaterThanOrEqual(0);
    expect(json.throughput.reduced).toBeGreaterThan(0);
  });

  it('NLVR2 with a METER schedule (text output)', async () => {
    const r = await runCli([
      'eval',
      '--model',
      NLVR2,
      '--data',
      sharedPath('models', 'shapes-nlvr2-eval', 'eval.jsonl'),
      '--backend',
      'cpu',
      '--limit',
      '2',
      '--schedule',
      'meter-nlvr2',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^task\s+NLVR2$/m);
    expect(r.stdout).toMatch(/^schedule meter-nlvr2: steps 0,1 /m);
    expect(r.stdout).toMatch(/^accuracy\s+\S+% reduced, \S+% unreduced/m);
  });
});

type Dim = { dimValue?: number; dimParam?: string };
type Value = { name: string; type: { tensorType: { shape: { dim: Dim[] } } } };

describe('pumer export and convert on METER checkpoints', () => {
  it('export writes the whole reduced METER as one ONNX graph (NLVR2: both passes)', async () => {
    const out = path.join(scratch(), 'nlvr2.onnx');
    const r = await runCli(['export', '--model', NLVR2, '--out', out, '--batch', '4', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({
      family: 'meter',
      schedule: { name: 'model', config: { reduceLayers: [1] } },
    });
    expect(statSync(out).size).toBe(json.bytes);
    const graph = (
      decodeModel(new Uint8Array(readFileSync(out))) as { graph: { input: Value[]; output: Value[] } }
    ).graph;
    const dims = (v: Value) => v.type.tensorType.shape.dim.map((d) => d.dimValue ?? d.dimParam);
    expect(graph.input.map((v) => [v.name, dims(v)])).toEqual([
      ['input_ids', [4, 16]],
      ['attention_mask', [4, 16]],
      ['pixel_values', [4, 2, 3, 64, 64]],
    ]);
    const outputs = Object.fromEntries(graph.output.map((v) => [v.name, dims(v)]));
    expect(outputs['logits']).toEqual([4, 2]);
    expect(outputs['cls_feats']).toEqual([4, 128]);
    // Step 1 reduces in each image's pass: 17 image tokens keep 12.
    expect(outputs['image2_step1_keep_idx']).toEqual([4, 12]);
  });

  it('convert writes the safetensors layout, which gives the same logits and passes the reference cases', async () => {
    const out = path.join(scratch(), 'vqa');
    const r = await runCli(['convert', '--model', VQA, '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      family: 'meter',
      from: 'authors',
      architecture: 'MeterForQuestionAnswering',
      labels: 10,
      schedule: true,
    });
    expect(readdirSync(out).sort()).toEqual([
      'config.json',
      'model.safetensors',
      'text_config.json',
      'tokenizer.json',
    ]);
    const args = ['--image', LEFT!, '--text', 'what shape is it?'];
    expect((await runJson(['--model', out, ...args])).logits).toEqual(
      (await runJson(['--model', VQA, ...args])).logits,
    );
    copyFileSync(path.join(VQA, 'cases.json'), path.join(out, 'cases.json'));
    const parity = await runCli(['parity', '--backend', 'cpu', '--model', out]);
    expect(parity.code, parity.stdout + parity.stderr).toBe(0);
    expect(parity.stdout.trimEnd().split('\n').at(-1)).toBe('2 passed, 0 failed');
  });
});
