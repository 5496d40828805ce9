// side-by-side steady state of prepacking on/off: both sessions in this process, runs interleaved
import { performance } from 'node:perf_hooks';
import { loadVilt } from '@pumer/vilt/node';
import { buildViltGraph } from '@pumer/onnx/graph';
import { namedSchedule } from '@pumer/core';
import { writeOnnxWithExternalData } from '../onnx/src/node.ts';
import * as ort from 'onnxruntime-node';
const B = Number(process.argv[2] ?? 8);
const sched = process.argv[3] === 'paper' ? namedSchedule('paper', 12) : null;
const loaded = loadVilt('/root/.cache/pumer/bench-vilt-b32-seed1');
const built = buildViltGraph(loaded.model, { textLen: 40, gridH: 12, gridW: 12 }, sched);
const p = `/tmp/pm/speed-${process.argv[3]}.onnx`;
writeOnnxWithExternalData(built.graph, p);
const sessions: [string, ort.InferenceSession][] = [];
for (const prepack of [true, false]) {
  const t = performance.now();
  const s = await ort.InferenceSession.create(p, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: 2, interOpNumThreads: 1, executionMode: 'sequential', extra: { session: { intra_op: { allow_spinning: '1' }, force_spinning_stop: '1', ...(prepack ? {} : { disable_prepacking: '1' }) } } });
  const name = prepack ? 'prepack' : 'noprepack';
  console.log(name, 'session', (performance.now() - t).toFixed(0));
  sessions.push([name, s]);
}
const feeds = { input_ids: new ort.Tensor('int32', new Int32Array(B*40).fill(5), [B, 40]), attention_mask: new ort.Tensor('float32', new Float32Array(B*40).fill(1), [B, 40]), pixel_values: new ort.Tensor('float32', new Float32Array(B*3*384*384).map((_, i) => Math.sin(i)), [B, 3, 384, 384]) };
const times: Record<string, number[]> = {};
for (const [, s] of sessions) { await s.run(feeds); await s.run(feeds); }
const R = Number(process.argv[4] ?? 7);
for (let r = 0; r < R; r++) for (const [n, s] of (r % 2 ? [...sessions].reverse() : sessions)) { const a = performance.now(); await s.run(feeds); (times[n] ??= []).push(performance.now() - a); }
const med = (n: string) => { const t = [...times[n]].sort((a, b) => a - b); return t[t.length >> 1]; };
for (const [n] of sessions) console.log(`batch ${B} ${process.argv[3]} ${n}: median ${med(n).toFixed(1)} ms, ${(1000 * B / med(n)).toFixed(2)} img/s; runs ${times[n].map((x) => x.toFixed(0)).join(' ')}`);
console.log(`noprepack/prepack time ratio ${(med('noprepack') / med('prepack')).toFixed(3)}`);
