import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { namedSchedule, schedule } from '@pumer/core';
import { describe, expect, it } from 'vitest';
import { TINY_GEOMETRY } from '../geometries.js';
import { runCli } from '../testing.js';

describe('pumer bench (tiny, cpu and node, smoke-sized)', () => {
  it('writes a synthetic checkpoint, times every schedule and writes JSON, Markdown and SVG', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'pumer-bench-'));
    const out = path.join(tmp, 'out');
    const argv = [
      'bench',
      '--geometry',
      'tiny',
      '--batch',
      '1',
      '--repeats',
      '2',
      '--warmup',
      '1',
      '--backend',
      'cpu,node',
      '--out',
      out,
      '--json',
    ];
    const r = await runCli(argv, { env: { PUMER_CACHE: path.join(tmp, 'cache') } });
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.checkpoint.startsWith(path.join(tmp, 'cache'))).toBe(true);
    expect(existsSync(path.join(json.checkpoint, 'model.safetensors'))).toBe(true);
    // Linux keeps a resettable RSS high-water mark; other platforms fall back to sampling.
    expect(json.rssMethod).toBe(process.platform === 'linux' ? 'VmHWM' : 'sampled');
    expect(
      json.rows.map((row: { backend: string; schedule: string }) => `${row.backend} ${row.schedule}`),
    ).toEqual([
      'cpu unreduced',
      'cpu pumer',
      'cpu aggressive',
      'node unreduced',
      'node pumer',
      'node aggressive',
    ]);
    const ideal = {
      unreduced: 1,
      pumer: schedule(TINY_GEOMETRY, namedSchedule('pumer', 6)).idealSpeedup,
      aggressive: schedule(TINY_GEOMETRY, namedSchedule('aggressive', 6)).idealSpeedup,
    };
    for (const row of json.rows) {
      expect(row.provider).toBe(row.backend === 'cpu' ? 'typescript' : 'cpu');
      expect(row.runsMs).toHaveLength(2);
      expect(row.idealSpeedup).toBeCloseTo(ideal[row.schedule as keyof typeof ideal], 12);
      expect(row.imagesPerSecond.median).toBeGreaterThan(0);
      expect(row.latencyMs.p95).toBeGreaterThanOrEqual(row.latencyMs.p50);
      expect(row.peakRssMiB).toBeGreaterThan(0);
      if (row.schedule === 'unreduced') {
        expect(row.speedup).toBe(1);
        expect(row.reducerShare).toBeNull();
      } else {
        expect(row.speedup).toBeGreaterThan(0);
        expect(row.achievedOverIdeal).toBeCloseTo(row.speedup / row.idealSpeedup, 12);
        expect(row.reducerShare.share).toBeGreaterThan(0);
        expect(row.reducerShare.share).toBeLessThanOrEqual(1);
        if (row.backend === 'node') {
          expect(row.reducerShare.method).toContain("onnxruntime's profiler");
          expect(Object.keys(row.reducerShare.opTypes).length).toBeGreaterThan(3);
        } else {
          expect(row.reducerShare.method).toContain('Pruner and Merger');
        }
      }
    }
    const written = JSON.parse(readFileSync(path.join(out, 'bench.json'), 'utf8'));
    expect(written.rows).toHaveLength(6);
    const md = readFileSync(path.join(out, 'bench.md'), 'utf8');
    expect(md).toContain(os.cpus()[0]!.model.trim());
    expect(md).toContain(process.version);
    expect(md).toContain(
      'pumer bench --geometry tiny --batch 1 --backend cpu,node --schedules unreduced,pumer,aggressive --repeats 2 --warmup 1',
    );
    expect(md).toMatch(/^\| cpu +\| typescript \| +1 \| pumer +\|/m);
    expect(md).toContain('smoke run');
    const svg = readFileSync(path.join(out, 'bench.svg'), 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('<title>PuMer speed-up over unreduced against schedule — tiny</title>');
    // one bar per reduced schedule and backend (series colours in legend order)
    expect(svg.match(/<rect [^>]*fill="#0072B2"><title>/g)).toHaveLength(2);
    expect(svg.match(/<rect [^>]*fill="#E69F00"><title>/g)).toHaveLength(2);
    // The second run reuses the cached checkpoint.
    const again = await runCli(argv.slice(0, -1).concat(['--schedules', 'unreduced', '--json']), {
      env: { PUMER_CACHE: path.join(tmp, 'cache') },
    });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).checkpoint).toBe(json.checkpoint);
  }, 120_000);

  it('--task nlvr2 times two image passes per example; --task retrieval counts pairs', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'pumer-bench-'));
    for (const [task, unit] of [
      ['nlvr2', 'examples/s'],
      ['retrieval', 'pairs/s'],
    ] as const) {
      const out = path.join(tmp, task);
      const r = await runCli(
        [
          'bench',
          '--task',
          task,
          '--geometry',
          'tiny',
          '--batch',
          '2',
          '--repeats',
          '1',
          '--warmup',
          '0',
          '--backend',
          'node',
          '--schedules',
          'unreduced,pumer',
          '--out',
          out,
          '--json',
        ],
        { env: { PUMER_CACHE: path.join(tmp, 'cache') } },
      );
      expect(r.code, r.stderr).toBe(0);
      const json = JSON.parse(r.stdout);
      expect(json).toMatchObject({ task, throughputUnit: unit });
      expect(json.checkpoint).toBe(path.join(tmp, 'cache', `bench-tiny-${task}-seed1`));
      expect(json.command).toContain(`pumer bench --task ${task} --geometry tiny`);
      expect(json.rows.map((row: { schedule: string }) => row.schedule)).toEqual(['unreduced', 'pumer']);
      expect(json.rows[1].speedup).toBeGreaterThan(0);
      expect(readFileSync(path.join(out, 'bench.md'), 'utf8')).toContain(`${unit} median`);
    }
  }, 120_000);
});
