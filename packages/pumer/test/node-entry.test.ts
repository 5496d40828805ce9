import { describe, expect, it } from 'vitest';
import {
  activeBackend,
  bundledImages,
  createVqaPipeline,
  defaultModelDir,
  listBackends,
  loadVilt,
  setBackend,
} from '../src/node.js';

/**
 * The umbrella's Node entry: importing it registers node and cpu, so a pipeline created without a backend
 * runs on onnxruntime-node (the `auto` pick) and follows `setBackend` afterwards.
 */
const loaded = loadVilt(defaultModelDir());
const circles = bundledImages().find((b) => b.question === 'how many circles are there?')!;

describe('@pumer/pumer in Node', () => {
  it('registers node (priority 2) and cpu (priority 1) on import', () => {
    expect(listBackends().map((b) => [b.name, b.priority])).toEqual([
      ['node', 2],
      ['cpu', 1],
    ]);
  });

  it('a pipeline without a backend runs on node, says why, and moves with setBackend', async () => {
    const vqa = await createVqaPipeline({ model: loaded });
    expect(vqa.info().backend).toMatchObject({ name: 'node', reason: expect.stringMatching(/^auto: /) });
    expect(activeBackend()?.name).toBe('node');
    const onNode = await vqa.answer(circles.path, circles.question);
    expect(onNode.answers[0]!.label).toBe(circles.answer);

    await setBackend('cpu');
    const onCpu = await vqa.answer(circles.path, circles.question);
    expect(vqa.info().backend).toMatchObject({ name: 'cpu', reason: "set by setBackend('cpu')" });

    await setBackend('node');
    const again = await vqa.answer(circles.path, circles.question);
    expect(vqa.info().backend).toMatchObject({ name: 'node', reason: "set by setBackend('node')" });
    expect(again.answers.map((a) => a.label)).toEqual(onCpu.answers.map((a) => a.label));
    for (const [k, a] of again.answers.entries()) expect(a.logit).toBeCloseTo(onCpu.answers[k]!.logit, 3);
  });
});
