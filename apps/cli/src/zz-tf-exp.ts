import '@pumer/backend-cpu';
import '@pumer/backend-node';
import { evaluate, loadEvalSet, loadVilt } from '@pumer/vilt/node';
import type { ReductionConfig } from '@pumer/core';

const M = '/work/shared/models';
const model = await loadVilt(process.env.MODEL ?? `${M}/tiny-vilt-shapes`);
const set = loadEvalSet(`${M}/shapesvqa-eval/eval.jsonl`);
const tune = { path: set.path, examples: set.examples.slice(0, 200) };
const held = { path: set.path, examples: set.examples.slice(200) };
const base: ReductionConfig = {
  reduceLayers: [1, 3],
  pruneRatio: 0.1,
  mergeRatio: 0.3,
  textMergeRatio: 0.2,
  saliency: 'first_head',
  mergeStyle: 'tip',
};
const variants = JSON.parse(process.env.VARIANTS ?? '[""]') as string[];
const combos = JSON.parse(process.env.COMBOS ?? '[["first_head","tip"]]') as [string, string][];
const backend = process.env.BACKEND ?? 'cpu';
async function acc(cfg: ReductionConfig | null, data: typeof tune) {
  const r = await evaluate({ model, data, schedule: cfg, backend, batchSize: 50 });
  return r.accuracy * 100;
}
if (process.env.UNRED)
  console.log('unreduced', (await acc(null, tune)).toFixed(2), (await acc(null, held)).toFixed(2));
for (const v of variants) {
  for (const [sal, style] of combos) {
    const cfg = {
      ...base,
      saliency: sal,
      mergeStyle: style,
      trainingFree: v !== 'off',
      ...(process.env.CFG ? JSON.parse(process.env.CFG) : {}),
    } as ReductionConfig;
    process.env.PUMER_TF = v;
    const a = await acc(cfg, tune);
    const b = await acc(cfg, held);
    console.log(
      `${v.padEnd(28)} ${sal}/${style}  tune ${a.toFixed(2)}  held ${b.toFixed(2)}  all ${((a + b) / 2).toFixed(2)}`,
    );
  }
}
