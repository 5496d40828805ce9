// side-by-side steady state: sessions built in this process, runs interleaved
import { performance } from 'node:perf_hooks';
import { loadVilt } from '@pumer/vilt/node';
import { buildViltGraph } from '@pumer/onnx/graph';
import { namedSchedule } from '@pumer/core';
import { writeOnnxWithExternalData } from '../onnx/src/node.ts';
import * as ort from 'onnxruntime-node';
const B = Number(process.argv[2] ?? 8);
const sched = process.argv[3] === 'paper' ? namedSchedule('paper', 12).config : null;
const loaded = loadVilt('/root/.cache/pumer/bench-vilt-b32-seed1');
const variants: [string, boolean, boolean][] = [['old+prepack', false, true], ['transB+prepack', true, true], ['transB+noprepack', true, false], ['old+noprepack', false, false]];
const sessions: [string, ort.InferenceSession][] = [];
for (const [name, transB, prepack] of variants) {
  if (transB) delete process.env.PUMER_TMP_NOTRANSB; else process.env.PUMER_TMP_NOTRANSB = '1';
  const built = buildViltGraph(loaded.model, { textLen: 40, gridH: 12, gridW: 12 }, sched);
  const p = `/tmp/pm/${name}.onnx`;
  writeOnnxWithExternalData(built.graph, p);
  const t = performance.now();
  const s = await ort.InferenceSession.create(p, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: 2, interOpNumThreads: 1, executionMode: 'sequential', extra: { session: { intra_op: { allow_spinning: '1' }, force_spinning_stop: '1', ...(prepack ? {} : { disable_prepacking: '1' }) } } });
  console.log(name, 'session', (performance.now() - t).toFixed(0));
  sessions.push([name, s]);
}
const feeds = { input_ids: new ort.Tensor('int32', new Int32Array(B*40).fill(5), [B, 40]), attention_mask: new ort.Tensor('float32', new Float32Array(B*40).fill(1), [B, 40]), pixel_values: new ort.Tensor('float32', new Float32Array(B*3*384*384).map((_, i) => Math.sin(i)), [B, 3, 384, 384]) };
const times: Record<string, number[]> = {};
const outs: Record<string, Float32Array> = {};
for (const [n, s] of sessions) { const o = await s.run(feeds); outs[n] = o.logits.data as Float32Array; }
const ref = outs['old+prepack'];
for (const [n] of sessions) console.log(n, 'max|diff| vs old', Math.max(...outs[n].map((v, i) => Math.abs(v - ref[i]))));
for (let r = 0; r < Number(process.argv[4] ?? 5); r++) for (const [n, s] of sessions) { const a = performance.now(); await s.run(feeds); (times[n] ??= []).push(performance.now() - a); }
for (const [n] of sessions) { const t = [...times[n]].sort((a, b) => a - b); console.log(n, 'median', t[t.length >> 1].toFixed(1), 'ms', 'img/s', (1000 * B / t[t.length >> 1]).toFixed(2), t.map((x) => x.toFixed(0)).join(' ')); }
