import { describe, expect, it } from 'vitest';
import {
  CLIP_MEAN,
  CLIP_STD,
  centerCropOffset,
  clipResizeTarget,
  prepareMeterImage,
} from './preprocessor.js';

const f32 = Math.fround;
/** ToTensor then Normalize of one 8-bit value of channel c, in float32 as torchvision computes it. */
const normalised = (p: number, c: number) => f32(f32(f32(p / 255) - f32(CLIP_MEAN[c])) / f32(CLIP_STD[c]));

describe("CLIP preparation (the authors' METER eval transform)", () => {
  it("centre-crops at torchvision's int(round((side - crop) / 2.0)), Python's half-to-even", () => {
    expect(centerCropOffset(288, 288)).toBe(0);
    expect(centerCropOffset(5, 2)).toBe(2); // 1.5 -> 2
    expect(centerCropOffset(7, 2)).toBe(2); // 2.5 -> 2
    expect(centerCropOffset(3, 2)).toBe(0); // 0.5 -> 0
    expect(centerCropOffset(384, 288)).toBe(48);
    expect(centerCropOffset(385, 288)).toBe(48); // 48.5 -> 48
    expect(centerCropOffset(387, 288)).toBe(50); // 49.5 -> 50
  });

  it('resizes the shorter side to S and truncates the longer one, as torchvision Resize(int)', () => {
    expect(clipResizeTarget(640, 480, 288)).toEqual({ width: 384, height: 288 });
    expect(clipResizeTarget(480, 640, 288)).toEqual({ width: 288, height: 384 });
    expect(clipResizeTarget(333, 500, 288)).toEqual({ width: 288, height: 432 }); // 432.43 -> 432
    expect(clipResizeTarget(100, 100, 64)).toEqual({ width: 64, height: 64 });
  });

  it('crops the centre rows of an image whose shorter side is already S (no resampling)', () => {
    // 2 wide, 5 high, grey rows valued 10·row: the crop starts at row round(1.5) = 2.
    const data = Uint8Array.from({ length: 10 }, (_, i) => 10 * Math.floor(i / 2));
    const out = prepareMeterImage({ data, width: 2, height: 5, channels: 1 }, 2);
    expect(out.shape).toEqual([3, 2, 2]);
    for (let c = 0; c < 3; c++)
      expect(Array.from(out.data.subarray(4 * c, 4 * c + 4))).toEqual(
        [20, 20, 30, 30].map((p) => normalised(p, c)),
      );
  });

  it('runs resize, crop, /255 and CLIP normalisation end to end (RGBA in: alpha dropped)', () => {
    // A flat colour survives Pillow's bicubic exactly; 7x4 -> 5x3 -> crop 3x3 at column 1.
    const rgba = [255, 128, 0, 17];
    const data = Uint8Array.from({ length: 7 * 4 * 4 }, (_, i) => rgba[i % 4]);
    const out = prepareMeterImage({ data, width: 7, height: 4, channels: 4 }, 3);
    expect(out.shape).toEqual([3, 3, 3]);
    for (let c = 0; c < 3; c++)
      expect(Array.from(out.data.subarray(9 * c, 9 * c + 9))).toEqual(
        new Array(9).fill(normalised(rgba[c], c)),
      );
  });

  it('refuses pixels that do not match the size', () => {
    expect(() => prepareMeterImage({ data: new Uint8Array(5), width: 2, height: 2 }, 2)).toThrow(
      expect.objectContaining({ code: 'IMAGE' }),
    );
  });
});
