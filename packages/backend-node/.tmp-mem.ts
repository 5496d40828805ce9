import { performance } from 'node:perf_hooks';
const m = (s: string) => { const u = process.memoryUsage(); console.log(s.padEnd(14), 'rss', (u.rss/2**20).toFixed(0), 'heap', (u.heapUsed/2**20).toFixed(0), 'ext', (u.external/2**20).toFixed(0), 'ab', (u.arrayBuffers/2**20).toFixed(0), 'max', (process.resourceUsage().maxRSS/1024).toFixed(0)); };
m('start');
const { loadVilt } = await import('@pumer/vilt/node');
const { createNodeBackend } = await import('./src/index.ts');
const { intTensor, floatTensor } = await import('@pumer/core');
m('imports');
const loaded = loadVilt('/root/.cache/pumer/bench-vilt-b32-seed1');
m('loaded');
const be = await createNodeBackend({ provider: 'cpu', graphCache: '/tmp/pm/cache', prepacking: process.env.PREPACK === '1' });
const { contentFingerprint } = await import('./src/content-key.ts');
contentFingerprint(loaded.model); m('hashed');
const B = 1;
const inputs = { inputIds: intTensor(new Int32Array(B*40).fill(5), [B, 40]), attentionMask: intTensor(new Int32Array(B*40).fill(1), [B, 40]), pixelValues: floatTensor(new Float32Array(B*3*384*512).fill(0.1), [B, 3, 384, 512]) };
const out = await be.runVilt(loaded.model, inputs, null);
m('answered');
console.log(be.graphStartups(loaded.model)[0]);
import { readFileSync } from 'node:fs';
const smaps = readFileSync('/proc/self/smaps', 'utf8').split('\n');
let cur = ''; const agg: Record<string, number> = {};
for (const l of smaps) {
  if (/^[0-9a-f]+-[0-9a-f]+ /.test(l)) { const parts = l.trim().split(/\s+/); cur = parts[5] ?? '[anon]'; }
  else if (l.startsWith('Rss:')) agg[cur] = (agg[cur] ?? 0) + Number(l.split(/\s+/)[1]);
}
for (const [k, v] of Object.entries(agg).sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log((v/1024).toFixed(0).padStart(6), 'MiB', k);
