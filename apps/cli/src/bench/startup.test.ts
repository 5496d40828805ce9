import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkpointDir } from '@pumer/testkit/node';
import { decodeImageFile } from '@pumer/vilt/node';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunStartup } from '../commands/run.js';
import {
  cliCommand,
  measureStartup,
  photoPng,
  type StartupTry,
  startupMarkdown,
  startupReport,
  summarise,
} from './startup.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'pumer-startup-bench-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const phases = (ms: number, graphCache: string): RunStartup => ({
  readWeightsMs: ms,
  hashWeightsMs: ms,
  buildGraphMs: ms,
  writeGraphMs: graphCache === 'hit' ? 0 : ms,
  createSessionMs: ms,
  graphCache,
  firstRunMs: ms,
  timeToAnswerMs: 10 * ms,
  peakRssMiB: 100 + ms,
});

describe('the start-up benchmark', () => {
  it('summarises each cache state by medians, phase by phase', () => {
    const runs: StartupTry[] = [
      { cache: 'cold', wallMs: 50, startup: phases(3, 'miss') },
      { cache: 'warm', wallMs: 20, startup: phases(1, 'hit') },
      { cache: 'cold', wallMs: 70, startup: phases(5, 'miss') },
      { cache: 'warm', wallMs: 40, startup: phases(2, 'hit') },
      { cache: 'cold', wallMs: 60, startup: phases(4, 'miss') },
    ];
    const cold = summarise(runs.filter((r) => r.cache === 'cold'));
    expect(cold).toMatchObject({ tries: 3, timeToAnswerMs: 40, wallMs: 60, peakRssMiB: 104 });
    expect(cold.phases).toMatchObject({ readWeightsMs: 4, writeGraphMs: 4, firstRunMs: 4 });
    const warm = summarise(runs.filter((r) => r.cache === 'warm'));
    expect(warm).toMatchObject({ tries: 2, timeToAnswerMs: 15, wallMs: 30 });
    expect(warm.phases.writeGraphMs).toBe(0);
    // A backend without graphs (cpu) has no such phases: null, shown as a dash.
    const cpu = summarise([{ cache: 'cold', wallMs: 5, startup: { ...phases(1, 'x'), buildGraphMs: null } }]);
    expect(cpu.phases.buildGraphMs).toBeNull();
    const report = startupReport({
      command: 'pumer bench --startup',
      geometry: 'g',
      checkpoint: '/ckpt',
      weightsBytes: 100 * 2 ** 20,
      backend: 'node',
      schedule: 'unreduced',
      image: '640x480',
      runs,
      loadAverage: { before: 1.25, after: 2 },
    });
    const md = startupMarkdown(report);
    expect(md).toContain('peak RSS budget 2.5× = 250 MiB). Load average 1.3 before, 2.0 after.');
    expect(md).toMatch(/\| cold \| 3 \| \*\*0\.04\*\* \| 0\.06 \|/);
    expect(md.match(/^\| \d+ \| (cold|warm) \|/gm)).toHaveLength(5);
  });

  it('writes a test photo the decoder reads back at its size', () => {
    const file = path.join(work, 'photo.png');
    writeFileSync(file, photoPng(64, 48));
    const img = decodeImageFile(file);
    expect([img.width, img.height]).toEqual([64, 48]);
  });

  it('times fresh `pumer run` processes: the cold cache builds the graph, the warm one loads it', async () => {
    const runs = await measureStartup({
      checkpoint: checkpointDir('tiny-vilt-shapes'),
      backend: 'node',
      schedule: 'unreduced',
      tries: 1,
      imageWidth: 64,
      imageHeight: 48,
    });
    expect(runs.map((r) => [r.cache, r.startup.graphCache])).toEqual([
      ['cold', 'miss'],
      ['warm', 'hit'],
    ]);
    for (const r of runs) {
      expect(r.wallMs).toBeGreaterThan(r.startup.timeToAnswerMs * 0.5);
      expect(r.startup.peakRssMiB).toBeGreaterThan(10);
    }
  }, 120_000);

  it('pumer run --graph-cache <dir> caches across processes; --graph-cache off writes nothing', () => {
    const { file, args } = cliCommand();
    const cache = path.join(work, 'run-cache');
    const run = (flag: string) => {
      const out = execFileSync(
        process.execPath,
        [...args, file, 'run', '--model', checkpointDir('tiny-vilt-shapes'), '--graph-cache', flag, '--json'],
        { encoding: 'utf8', env: { ...process.env, PUMER_GRAPH_CACHE: path.join(work, 'env-cache') } },
      );
      return (JSON.parse(out) as { startup: RunStartup }).startup.graphCache;
    };
    expect(run(cache)).toBe('miss');
    expect(run(cache)).toBe('hit');
    expect(readdirSync(cache).filter((n) => !n.startsWith('.'))).toHaveLength(1);
    expect(run('off')).toBe('off');
    // The flag wins over the environment's folder, which stays empty.
    expect(() => readdirSync(path.join(work, 'env-cache'))).toThrow();
  }, 120_000);
});
