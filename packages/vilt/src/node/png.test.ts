import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { PumerError, seededRandom } from '@pumer/core';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_PIXELS } from '../image-size.js';
import { bundledImages } from './assets.js';
import { decodeImageBytes } from './decode.js';
import { crc32, pngDataLength } from './png.js';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function ihdr(width: number, height: number, bitDepth: number, colorType: number, interlace = 0): Uint8Array {
  const d = new Uint8Array(13);
  const v = new DataView(d.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  d.set([bitDepth, colorType, 0, 0, interlace], 8);
  return chunk('IHDR', d);
}

function png(...chunks: Uint8Array[]): Uint8Array {
  return Buffer.concat([Uint8Array.from(SIGNATURE), ...chunks, chunk('IEND', new Uint8Array())]);
}

interface Chunk {
  readonly type: string;
  /** Offset of the chunk's length field. */
  readonly at: number;
  readonly length: number;
}

function chunksOf(bytes: Uint8Array): Chunk[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Chunk[] = [];
  for (let at = 8; at < bytes.length; ) {
    const length = v.getUint32(at);
    out.push({ type: String.fromCharCode(...bytes.subarray(at + 4, at + 8)), at, length });
    at += 12 + length;
  }
  return out;
}

/** Recomputes a chunk's CRC after its data was changed (so only the zlib stream can tell). */
function fixCrc(bytes: Uint8Array, c: Chunk): void {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(
    c.at + 8 + c.length,
    crc32(bytes.subarray(c.at + 4, c.at + 8 + c.length)),
  );
}

function imageError(fn: () => unknown): PumerError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PumerError);
    expect((err as PumerError).code).toBe('IMAGE');
    return err as PumerError;
  }
  throw new Error('expected a PumerError');
}

/** A decompression bomb: 138 bytes or so whose IHDR claims `side`x`side` pixels. */
function bomb(side: number, bitDepth = 8): Uint8Array {
  return png(ihdr(side, side, bitDepth, 2), chunk('IDAT', deflateSync(new Uint8Array(64))));
}

describe('strict PNG decoding', () => {
  const original = new Uint8Array(readFileSync(bundledImages()[0].path));
  const pixels = decodeImageBytes(original).data;

  it('refuses an image above the pixel limit from its header: fast, and without allocating it', () => {
    const limitError = imageError(() => decodeImageBytes(bomb(20000), 'bomb.png'));
    expect(limitError.message).toMatch(
      new RegExp(
        `bomb\\.png: 20000x20000 image \\(400000000 pixels\\) exceeds the limit of ${DEFAULT_MAX_PIXELS}`,
      ),
    );
    expect(imageError(() => decodeImageBytes(bomb(64), 'x', { maxPixels: 4095 })).message).toMatch(
      /64x64 image \(4096 pixels\) exceeds the limit of 4095/,
    );
    expect(() => decodeImageBytes(original, 'x', { maxPixels: 0 })).toThrow(
      /maxPixels must be a number >= 1/,
    );
    // Peak memory and time, measured in a child process (this one's peak is the whole test run's).
    const decodeModule = join(import.meta.dirname, 'decode.ts');
    const script = `
      const { decodeImageBytes } = await import(${JSON.stringify(decodeModule)});
      const results = [];
      for (const b64 of process.argv.slice(1)) {
        const bytes = Buffer.from(b64, 'base64');
        const start = performance.now();
        let code = null;
        try { decodeImageBytes(bytes, 'bomb'); } catch (e) { code = e.code ?? String(e); }
        results.push({ bytes: bytes.length, code, ms: performance.now() - start });
      }
      console.log(JSON.stringify({ results, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
    `;
    const bombs = [bomb(20000), bomb(20000, 16)];
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@pumer/source',
        '--input-type=module',
        '-e',
        script,
        ...bombs.map((b) => Buffer.from(b).toString('base64')),
      ],
      { encoding: 'utf8', timeout: 30_000, cwd: import.meta.dirname },
    );
    const report = JSON.parse(out) as {
      results: { bytes: number; code: string; ms: number }[];
      maxRssMb: number;
    };
    expect(report.results.map((r) => r.bytes)).toEqual([bombs[0].length, bombs[1].length]);
    for (const r of report.results) {
      expect(r.code).toBe('IMAGE');
      expect(r.ms).toBeLessThan(1000);
    }
    expect(report.maxRssMb).toBeLessThan(200);
  });

  it('refuses damaged image data (bit flips under a valid chunk CRC); never returns altered pixels', () => {
    const idat = chunksOf(original).filter((c) => c.type === 'IDAT');
    expect(idat.length).toBeGreaterThan(0);
    const next = seededRandom(20240611);
    let refused = 0;
    let identical = 0;
    let altered = 0;
    const flips = 300;
    for (let n = 0; n < flips; n++) {
      const c = idat[Math.floor(next() * idat.length)];
      const damaged = Uint8Array.from(original);
      const byte = c.at + 8 + Math.floor(next() * c.length);
      damaged[byte] ^= 1 << Math.floor(next() * 8);
      fixCrc(damaged, c);
      let data: Uint8Array | Uint8ClampedArray;
      try {
        data = decodeImageBytes(damaged, 'flipped.png').data;
      } catch (err) {
        expect(err).toBeInstanceOf(PumerError);
        expect((err as PumerError).code).toBe('IMAGE');
        refused++;
        continue;
      }
      // Only a flip in bits zlib ignores (padding after the last block) may decode: to the same pixels.
      if (Buffer.from(data).equals(Buffer.from(pixels))) identical++;
      else altered++;
    }
    expect({ refused, identical, altered }).toEqual({ refused: flips - identical, identical, altered: 0 });
    expect(refused).toBeGreaterThan(flips * 0.95);
  });

  it('refuses a forged size: IHDR claiming more or fewer rows than the data holds', () => {
    const header = chunksOf(original).find((c) => c.type === 'IHDR')!;
    for (const height of [65, 63, 128]) {
      const forged = Uint8Array.from(original);
      new DataView(forged.buffer).setUint32(header.at + 12, height);
      fixCrc(forged, header);
      expect(imageError(() => decodeImageBytes(forged, 'forged.png')).message).toMatch(
        /inflates to (\d+ bytes|more than the \d+ bytes IHDR implies)/,
      );
    }
  });

  it('refuses bad chunks: wrong CRC, truncation, a missing IEND, a bad IHDR', () => {
    const crc = Uint8Array.from(original);
    crc[crc.length - 20] ^= 1;
    expect(imageError(() => decodeImageBytes(crc)).message).toMatch(/wrong CRC/);
    expect(imageError(() => decodeImageBytes(original.subarray(0, original.length - 12))).message).toMatch(
      /no IEND chunk/,
    );
    expect(imageError(() => decodeImageBytes(original.subarray(0, 100))).message).toMatch(
      /runs past the end/,
    );
    const data = chunk('IDAT', deflateSync(new Uint8Array(2)));
    expect(imageError(() => decodeImageBytes(png(ihdr(1, 1, 3, 2), data))).message).toMatch(
      /colour type 2 with bit depth 3/,
    );
    expect(imageError(() => decodeImageBytes(png(ihdr(0, 1, 8, 2), data))).message).toMatch(/size 0x1/);
    expect(imageError(() => decodeImageBytes(png(data))).message).toMatch(/first chunk is not IHDR/);
  });

  it('decodes valid images: interlaced (Adam7), 16-bit, grey, RGBA', () => {
    const width = 13;
    const height = 11;
    const rgb = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 37) % 256);
    // Adam7: seven passes of filter-0 rows over sub-grids.
    const passes = [
      [0, 0, 8, 8],
      [4, 0, 8, 8],
      [0, 4, 4, 8],
      [2, 0, 4, 4],
      [0, 2, 2, 4],
      [1, 0, 2, 2],
      [0, 1, 1, 2],
    ];
    const rows: number[] = [];
    for (const [x0, y0, dx, dy] of passes) {
      if (x0 >= width || y0 >= height) continue;
      for (let y = y0; y < height; y += dy) {
        rows.push(0);
        for (let x = x0; x < width; x += dx)
          rows.push(...rgb.subarray((y * width + x) * 3, (y * width + x) * 3 + 3));
      }
    }
    expect(rows.length).toBe(pngDataLength({ width, height, bitDepth: 8, colorType: 2, interlaced: true }));
    const interlaced = decodeImageBytes(
      png(ihdr(width, height, 8, 2, 1), chunk('IDAT', deflateSync(Uint8Array.from(rows)))),
    );
    const rgba = Uint8Array.from({ length: width * height * 4 }, (_, i) =>
      i % 4 === 3 ? 255 : rgb[Math.floor(i / 4) * 3 + (i % 4)],
    );
    expect(interlaced.data).toEqual(rgba);

    for (const options of [
      { colorType: 2, inputHasAlpha: true, bitDepth: 16 },
      { colorType: 0, inputHasAlpha: true, bitDepth: 8 },
      { colorType: 6, inputHasAlpha: true, bitDepth: 8 },
    ] as const) {
      const p = new PNG({ width, height, ...options });
      p.data.set(rgba);
      const bytes = new Uint8Array(PNG.sync.write(p, options));
      const img = decodeImageBytes(bytes);
      expect([img.width, img.height, img.data.length]).toEqual([width, height, width * height * 4]);
    }
  });
});
