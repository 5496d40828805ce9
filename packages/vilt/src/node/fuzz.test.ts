import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import mozjpegEncode, { init as initEncoder } from '@jsquash/jpeg/encode.js';
import { PumerError, seededRandom } from '@pumer/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CheckpointTensor, TENSOR_DTYPES } from '../checkpoint/tensors.js';
import { readSafetensors } from '../safetensors.js';
import { stateDictPickle, type TorchTensorSpec, torchZip } from '../testing/torch-save.js';
import { bundledImages, defaultModelDir } from './assets.js';
import { decodeImageBytes } from './decode.js';
import { loadVilt } from './load.js';
import { crc32 } from './png.js';

/**
 * A seeded fuzz of everything a user hands the loader and the decoder: every failure must be a PumerError with
 * a code (never a TypeError, RangeError or a hang), no single run may take 5 s, and corruption of the
 * structure a file declares (safetensors header fields, the torch pickle's tensor table, truncation, a PNG's
 * IHDR) must never give a loaded model or image. Counts per input kind are printed.
 */

const SEED = 0x5eed;
const MAX_RUN_MS = 5000;
const rand = seededRandom(SEED);
const int = (n: number) => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];

interface Tally {
  runs: number;
  refused: number;
  loaded: number;
  slowestMs: number;
}
const tallies = new Map<string, Tally>();

/**
 * Runs one mutated input. `mustRefuse`: the mutation broke what the file declares, so loading it is a bug.
 */
function attempt(kind: string, what: string, mustRefuse: boolean, run: () => unknown): void {
  const t = tallies.get(kind) ?? { runs: 0, refused: 0, loaded: 0, slowestMs: 0 };
  tallies.set(kind, t);
  t.runs++;
  const start = performance.now();
  let error: unknown = null;
  try {
    run();
  } catch (err) {
    error = err;
  }
  const ms = performance.now() - start;
  t.slowestMs = Math.max(t.slowestMs, ms);
  if (ms > MAX_RUN_MS) throw new Error(`${kind} (${what}) took ${ms.toFixed(0)} ms`);
  if (error === null) {
    if (mustRefuse) throw new Error(`${kind} (${what}) loaded although its declared structure was corrupted`);
    t.loaded++;
    return;
  }
  if (!(error instanceof PumerError) || typeof error.code !== 'string') {
    const msg = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new Error(`${kind} (${what}) threw an untyped error: ${msg}`, { cause: error });
  }
  t.refused++;
}

function flipBit(bytes: Uint8Array, from: number, to: number): string {
  const at = from + int(to - from);
  const bit = int(8);
  bytes[at] ^= 1 << bit;
  return `bit ${bit} of byte ${at}`;
}

const modelDir = defaultModelDir();
const weightBytes = new Uint8Array(readFileSync(join(modelDir, 'model.safetensors')));
const jsonText = (name: string) => readFileSync(join(modelDir, name), 'utf8');

/** A scratch checkpoint directory per input: its JSON files rewritten per run, the weights linked. */
function scratchDir(): string {
  const dir = mkdtempSync(join(os.tmpdir(), 'pumer-fuzz-'));
  for (const name of ['config.json', 'tokenizer.json', 'preprocessor_config.json'])
    writeFileSync(join(dir, name), jsonText(name));
  return dir;
}

describe('seeded fuzz of checkpoint files and images', { timeout: 60_000 }, () => {
  const dirs: string[] = [];
  let jpeg: Uint8Array;

  beforeAll(async () => {
    const require = createRequire(import.meta.url);
    const wasm = new WebAssembly.Module(
      readFileSync(require.resolve('@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm')),
    );
    await (initEncoder as unknown as (m: WebAssembly.Module) => Promise<void>)(wasm);
    const encode = mozjpegEncode as unknown as (
      img: { data: Uint8ClampedArray; width: number; height: number },
      options: { quality: number },
    ) => Promise<ArrayBuffer>;
    const pixels = new Uint8ClampedArray(24 * 16 * 4).map((_, i) => (i * 53) % 256);
    jpeg = new Uint8Array(await encode({ data: pixels, width: 24, height: 16 }, { quality: 80 }));
  });

  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    const rows = [...tallies].map(
      ([kind, t]) =>
        `${kind.padEnd(28)} ${String(t.runs).padStart(5)} runs ${String(t.refused).padStart(5)} refused ${String(t.loaded).padStart(5)} loaded  slowest ${t.slowestMs.toFixed(1)} ms`,
    );
    const total = [...tallies.values()].reduce((n, t) => n + t.runs, 0);
    console.log(`fuzz (seed ${SEED}): ${total} mutations\n${rows.join('\n')}`);
  });

  /** Loads a checkpoint directory whose weights file holds `bytes`. */
  function weightsLoader(fileName: string) {
    const dir = scratchDir();
    dirs.push(dir);
    return (bytes: Uint8Array) => () => {
      writeFileSync(join(dir, fileName), bytes);
      return loadVilt(dir);
    };
  }

  it('safetensors bytes', () => {
    const load = weightsLoader('model.safetensors');
    const headerLength = Number(new DataView(weightBytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(weightBytes.subarray(8, 8 + headerLength))) as Record<
      string,
      { dtype: string; shape: number[]; data_offsets: [number, number] }
    >;
    const names = Object.keys(header).filter((n) => n !== '__metadata__');
    const data = weightBytes.subarray(8 + headerLength);
    /** The file with a rewritten header (its length field kept consistent) and the same data. */
    const withHeader = (h: unknown): Uint8Array => {
      const text = new TextEncoder().encode(JSON.stringify(h));
      const out = new Uint8Array(8 + text.length + data.length);
      new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
      out.set(text, 8);
      out.set(data, 8 + text.length);
      return out;
    };
    expect(() => load(withHeader(header))()).not.toThrow();

    for (let n = 0; n < 60; n++) {
      const bytes = Uint8Array.from(weightBytes);
      const what = flipBit(bytes, 0, 8);
      attempt('safetensors: length field', what, true, load(bytes));
    }
    for (let n = 0; n < 240; n++) {
      const h = structuredClone(header);
      const name = pick(names);
      const e = h[name];
      const field = pick(['dtype', 'shape', 'offsets'] as const);
      let what = `${name}.${field}`;
      if (field === 'dtype') e.dtype = pick(TENSOR_DTYPES.filter((d) => d !== e.dtype));
      else if (field === 'shape') {
        const i = int(e.shape.length);
        const change = pick(['grow', 'shrink', 'reverse', 'unsqueeze'] as const);
        if (change === 'grow') e.shape[i] += 1;
        else if (change === 'shrink') e.shape[i] = Math.max(0, e.shape[i] - 1);
        else if (change === 'reverse' && e.shape.length > 1 && e.shape[0] !== e.shape.at(-1))
          e.shape.reverse();
        else e.shape.splice(i, 0, 1);
        what += ` ${change} -> [${e.shape.join(', ')}]`;
      } else {
        const delta = pick([-4, -1, 1, 4, 64]);
        e.data_offsets[int(2)] += delta;
        what += ` ${delta}`;
      }
      attempt('safetensors: header fields', what, true, load(withHeader(h)));
    }
    for (let n = 0; n < 150; n++) {
      const bytes = Uint8Array.from(weightBytes);
      const what = flipBit(bytes, 8, 8 + headerLength);
      attempt('safetensors: header bytes', what, false, load(bytes));
    }
    for (let n = 0; n < 200; n++) {
      const bytes = Uint8Array.from(weightBytes);
      const what = flipBit(bytes, 8 + headerLength, bytes.length);
      attempt('safetensors: data bytes', what, false, load(bytes));
    }
    for (let n = 0; n < 50; n++) {
      const cut = int(weightBytes.length);
      attempt('safetensors: truncated', `at ${cut}`, true, load(weightBytes.slice(0, cut)));
    }
  });

  it('pytorch_model.bin bytes (a torch.save archive of the same weights)', () => {
    const load = weightsLoader('pytorch_model.bin');
    // The scratch directory must read the torch file: it has no model.safetensors to prefer.
    const { tensors } = readSafetensors(weightBytes);
    const specs = new Map<string, TorchTensorSpec>();
    let key = 0;
    for (const [name, t] of tensors as Map<string, CheckpointTensor>) {
      // The tensor's own bytes: its data may be a view into the whole file's buffer (read zero-copy).
      const data = t.data as Float32Array;
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
      specs.set(name, {
        shape: [...t.shape],
        storage: { className: 'FloatStorage', key: String(key++), numel: t.data.length, bytes },
      });
    }
    const archive = torchZip(specs);
    const pickle = stateDictPickle(specs);
    expect(() => load(archive)()).not.toThrow();
    const names = [...specs.keys()];

    for (let n = 0; n < 200; n++) {
      const mutated = new Map(specs);
      const name = pick(names);
      const s = specs.get(name)!;
      const field = pick(['shape', 'numel', 'class', 'offset'] as const);
      let spec: TorchTensorSpec;
      if (field === 'shape') {
        const shape = [...s.shape];
        shape[int(shape.length)] += pick([-1, 1]);
        spec = { ...s, shape };
      } else if (field === 'numel')
        spec = { ...s, storage: { ...s.storage, numel: s.storage.numel + pick([-1, 1, -7]) } };
      else if (field === 'class')
        spec = {
          ...s,
          storage: {
            ...s.storage,
            className: pick(['HalfStorage', 'IntStorage', 'DoubleStorage', 'BFloat16Storage']),
          },
        };
      else spec = { ...s, offset: pick([1, 3, 64]) };
      mutated.set(name, spec);
      attempt('torch: pickle tensor table', `${name} ${field}`, true, load(torchZip(mutated)));
    }
    for (let n = 0; n < 150; n++) {
      const p = Uint8Array.from(pickle);
      const what = flipBit(p, 0, p.length);
      attempt('torch: pickle bytes', what, false, load(torchZip(specs, { pickle: p })));
    }
    for (let n = 0; n < 150; n++) {
      const bytes = Uint8Array.from(archive);
      const what = flipBit(bytes, 0, bytes.length);
      attempt('torch: archive bytes', what, false, load(bytes));
    }
    for (let n = 0; n < 50; n++) {
      const cut = int(archive.length);
      attempt('torch: truncated', `at ${cut}`, true, load(archive.slice(0, cut)));
    }
  });

  /** Replaces one randomly chosen value (or key) somewhere in `root` by a value of another kind. */
  function mutateValue(root: unknown): string {
    const pool: unknown[] = [
      null,
      true,
      0,
      -1,
      0.5,
      1e9,
      2 ** 53 + 2,
      -1e308,
      '',
      'x',
      'F32',
      [],
      {},
      [1, 2, 3],
      { a: 1 },
      JSON.parse(`${'['.repeat(40)}${']'.repeat(40)}`),
      'y'.repeat(10_000),
    ];
    const paths: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
    const walk = (v: unknown, depth: number) => {
      if (depth > 6 || v === null || typeof v !== 'object') return;
      const entries = Array.isArray(v) ? v.slice(0, 50).map((x, i) => [i, x] as const) : Object.entries(v);
      for (const [k, x] of entries) {
        paths.push({ parent: v as Record<string, unknown>, key: k });
        walk(x, depth + 1);
      }
    };
    walk(root, 0);
    const { parent, key } = pick(paths);
    if (!Array.isArray(parent) && rand() < 0.15) {
      delete parent[key as string];
      return `delete ${String(key)}`;
    }
    const value = structuredClone(pick(pool));
    (parent as Record<string | number, unknown>)[key] = value;
    return `${String(key)} = ${JSON.stringify(value).slice(0, 30)}`;
  }

  for (const [file, count] of [
    ['config.json', 600],
    ['tokenizer.json', 350],
    ['preprocessor_config.json', 350],
  ] as const) {
    it(file, () => {
      const dir = scratchDir();
      dirs.push(dir);
      symlinkSync(join(modelDir, 'model.safetensors'), join(dir, 'model.safetensors'));
      const original = jsonText(file);
      const load = (text: string | Uint8Array) => () => {
        writeFileSync(join(dir, file), text);
        return loadVilt(dir);
      };
      expect(() => load(original)()).not.toThrow();
      for (let n = 0; n < count; n++) {
        if (rand() < 0.4) {
          const bytes = new TextEncoder().encode(original);
          const change = pick(['flip', 'delete', 'insert'] as const);
          const at = int(bytes.length);
          let text: Uint8Array = bytes;
          if (change === 'flip') text[at] ^= 1 << int(8);
          else if (change === 'delete')
            text = Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + 1)]);
          else
            text = Uint8Array.from([
              ...bytes.subarray(0, at),
              pick([0x22, 0x7b, 0x5d, 0x2c, 0x30, 0x00, 0xff]),
              ...bytes.subarray(at),
            ]);
          attempt(`${file}: bytes`, `${change} at ${at}`, false, load(text));
        } else {
          const json = JSON.parse(original) as unknown;
          const what = mutateValue(json);
          attempt(`${file}: values`, what, false, load(JSON.stringify(json)));
        }
      }
    });
  }

  it('PNG bytes', () => {
    const png = new Uint8Array(readFileSync(bundledImages()[0].path));
    const view = new DataView(png.buffer);
    const chunks: { type: string; at: number; length: number }[] = [];
    for (let at = 8; at < png.length; ) {
      const length = view.getUint32(at);
      chunks.push({ type: String.fromCharCode(...png.subarray(at + 4, at + 8)), at, length });
      at += 12 + length;
    }
    const fixCrc = (b: Uint8Array, c: { at: number; length: number }) =>
      new DataView(b.buffer).setUint32(c.at + 8 + c.length, crc32(b.subarray(c.at + 4, c.at + 8 + c.length)));
    const ihdr = chunks.find((c) => c.type === 'IHDR')!;
    const idat = chunks.filter((c) => c.type === 'IDAT');
    const decode = (b: Uint8Array) => () => decodeImageBytes(b, 'fuzz.png');
    for (let n = 0; n < 100; n++) {
      const b = Uint8Array.from(png);
      // Width, height, bit depth, colour type, compression, filter, interlace: any change breaks the data's length.
      const at = ihdr.at + 8 + int(13);
      b[at] = (b[at] + 1 + int(255)) & 0xff;
      fixCrc(b, ihdr);
      attempt('PNG: IHDR fields (CRC fixed)', `byte ${at} = ${b[at]}`, true, decode(b));
    }
    for (let n = 0; n < 200; n++) {
      const b = Uint8Array.from(png);
      const c = pick(idat);
      const what = flipBit(b, c.at + 8, c.at + 8 + c.length);
      fixCrc(b, c);
      attempt('PNG: IDAT bits (CRC fixed)', what, false, decode(b));
    }
    for (let n = 0; n < 150; n++) {
      const b = Uint8Array.from(png);
      attempt('PNG: any bit', flipBit(b, 0, b.length), false, decode(b));
    }
    for (let n = 0; n < 50; n++) {
      const cut = int(png.length);
      attempt('PNG: truncated', `at ${cut}`, true, decode(png.slice(0, cut)));
    }
  });

  it('JPEG bytes', () => {
    const decode = (b: Uint8Array) => () => decodeImageBytes(b, 'fuzz.jpg');
    expect(() => decode(jpeg)()).not.toThrow();
    for (let n = 0; n < 300; n++) {
      const b = Uint8Array.from(jpeg);
      attempt('JPEG: any bit', flipBit(b, 0, b.length), false, decode(b));
    }
    for (let n = 0; n < 100; n++) {
      const b = Uint8Array.from(jpeg);
      const at = int(b.length);
      b[at] = int(256);
      attempt('JPEG: any byte', `byte ${at} = ${b[at]}`, false, decode(b));
    }
    for (let n = 0; n < 50; n++) {
      const cut = 2 + int(jpeg.length - 4);
      attempt('JPEG: truncated', `at ${cut}`, true, decode(jpeg.slice(0, cut)));
    }
  });
});
