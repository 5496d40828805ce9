import { performance } from 'node:perf_hooks';
import { loadVilt } from '@pumer/vilt/node';
import { buildViltGraph } from '@pumer/onnx/graph';
import { writeOnnxWithExternalData } from '../onnx/src/node.ts';
import { modelFingerprint } from '../onnx/src/model-fingerprint.ts';
import * as ort from 'onnxruntime-node';
const mode = process.argv[2] ?? 'ext';
const prepack = process.argv[3] !== 'noprepack';
const rss = () => `${(process.memoryUsage().rss / 2**20).toFixed(0)}MB max ${(process.resourceUsage().maxRSS/1024).toFixed(0)}MB`;
let t = performance.now();
const lap = (s: string) => { const n = performance.now(); console.log(s, (n - t).toFixed(0), 'ms', rss()); t = n; };
lap('start(since origin ' + performance.now().toFixed(0) + ')');
const loaded = loadVilt('/root/.cache/pumer/bench-vilt-b32-seed1');
lap('load');
const fp = modelFingerprint(loaded.model); lap('fingerprint ' + fp);
const built = buildViltGraph(loaded.model, { textLen: 40, gridH: 12, gridW: 12 }, null);
lap('build');
const opts: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: 2, interOpNumThreads: 1, executionMode: 'sequential', enableCpuMemArena: process.env.ARENA !== '0', enableMemPattern: process.env.PATTERN !== '0', extra: { session: { intra_op: { allow_spinning: '1' }, force_spinning_stop: '1', ...(prepack ? {} : { disable_prepacking: '1' }) } } };
let s: ort.InferenceSession;
if (mode === 'ext') {
  if (process.argv[4] !== 'skipwrite') { writeOnnxWithExternalData(built.graph, '/tmp/pm/g.onnx'); lap('write'); }
  s = await ort.InferenceSession.create('/tmp/pm/g.onnx', opts);
} else {
  const bytes = built.graph.toOnnxBytes(); lap('toBytes');
  s = await ort.InferenceSession.create(bytes, opts);
}
lap('session');
const B = Number(process.argv[5] ?? 1);
const feeds = { input_ids: new ort.Tensor('int32', new Int32Array(B*40).fill(5), [B, 40]), attention_mask: new ort.Tensor('float32', new Float32Array(B*40).fill(1), [B, 40]), pixel_values: new ort.Tensor('float32', new Float32Array(B*3*384*384).fill(0.1), [B, 3, 384, 384]) };
await s.run(feeds); lap('first run');
const times = [];
for (let i = 0; i < Number(process.argv[6] ?? 3); i++) { const a = performance.now(); await s.run(feeds); times.push(performance.now() - a); }
times.sort((a,b)=>a-b);
lap('steady runs median ' + times[times.length>>1].toFixed(1) + ' ms');
