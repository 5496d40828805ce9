import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { namedSchedule, schedule } from '@pumer/core';
import { describe, expect, it } from 'vitest';
import { TINY_GEOMETRY } from '../geometries.js';
import { runCli } from '../testing.js';

describe('pumer bench --memory (tiny, node, each configuration in its own process)', () => {
  it('reports peak RSS per backend × batch × schedule beside the activation bytes per layer', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'pumer-bench-memory-'));
    const out = path.join(tmp, 'out');
    const r = await runCli(
      [
        'bench',
        '--memory',
        '--geometry',
        'tiny',
        '--batch',
        '1,8',
        '--backend',
        'node',
        '--schedules',
        'unreduced,aggressive',
        '--repeats',
        '1',
        '--warmup',
        '1',
        '--out',
        out,
        '--json',
      ],
      { env: { PUMER_CACHE: path.join(tmp, 'cache') } },
    );
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.format).toBe('pumer-bench-memory/1');
    expect(json.rssMethod).toBe(process.platform === 'linux' ? 'VmHWM' : 'sampled');
    expect(
      json.rows.map((row: { batch: number; schedule: string }) => `${row.batch} ${row.schedule}`),
    ).toEqual(['1 unreduced', '1 aggressive', '8 unreduced', '8 aggressive']);
    const aggressive = schedule(TINY_GEOMETRY, namedSchedule('aggressive', 6));
    const unreduced = schedule(TINY_GEOMETRY, null);
    for (const row of json.rows) {
      expect(row.backend).toBe('node');
      expect(row.provider).toBe('cpu');
      // A process of its own: the resident set grows from loading to session to warm-up, the peak is above it.
      expect(row.rssLoadedMiB).toBeGreaterThan(10);
      expect(row.rssSessionMiB).toBeGreaterThan(0);
      expect(row.peakRssMiB).toBeGreaterThanOrEqual(row.rssWarmMiB - 1);
      expect(row.runGrowthMiB).toBeCloseTo(Math.max(0, row.peakRssMiB - row.rssWarmMiB), 6);
      expect(row.startupPeakRssMiB).toBeGreaterThanOrEqual(row.rssLoadedMiB);
      expect(row.runsMs).toHaveLength(1);
      // onnxruntime's CPU arena, from its profiler: the tensors requested at once, within what the arena holds.
      expect(row.runtime.what).toContain("onnxruntime's CPU arena");
      expect(row.runtime.peakMiB).toBeGreaterThan(0);
      expect(row.runtime.afterMiB).toBeGreaterThanOrEqual(row.runtime.peakMiB);
      const s = row.schedule === 'aggressive' ? aggressive : unreduced;
      expect(row.activationMiB).toHaveLength(6);
      expect(row.activationMiB[5] * 1024 * 1024).toBeCloseTo(s.layers[5]!.activationBytes * row.batch, 3);
      expect(row.peakActivationMiB * 1024 * 1024).toBeCloseTo(s.peakActivationBytes * row.batch, 3);
    }
    // The reduced schedule's last layers hold fewer activations than the unreduced ones.
    expect(json.rows[1].activationMiB[5]).toBeLessThan(json.rows[0].activationMiB[5]);
    const md = readFileSync(path.join(out, 'memory.md'), 'utf8');
    expect(md).toContain(
      'pumer bench --memory --geometry tiny --batch 1,8 --backend node --schedules unreduced,aggressive --repeats 1 --warmup 1',
    );
    expect(md).toMatch(/^\| node +\| +8 \| aggressive +\| +\d+ \| +[+-]\d+\.\d% \|/m);
    expect(md).toContain("## The scheduler's activation bytes per layer");
    expect(md).toContain(
      "- **runtime peak**: what the runtime reports of its own memory: onnxruntime's CPU arena",
    );
    expect(md).toMatch(/^\| +Σ \| +[\d.]+ \| +[\d.]+ \|$/m);
    expect(JSON.parse(readFileSync(path.join(out, 'memory.json'), 'utf8')).rows).toHaveLength(4);
  }, 180_000);
});
