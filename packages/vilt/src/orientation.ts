import type { DecodedImage } from './image.js';

/**
 * EXIF orientation, applied as transformers' `load_image` does (`PIL.ImageOps.exif_transpose` before
 * `convert("RGB")`): a photo a camera stored sideways reaches the model upright.
 */

const ORIENTATION_TAG = 0x0112;

/** The EXIF orientation (1..8) in a JPEG's first Exif APP1 segment; 1 when there is none or it is unreadable. */
export function jpegExifOrientation(bytes: Uint8Array): number {
  let at = 2; // after SOI
  while (at + 4 <= bytes.length && bytes[at] === 0xff) {
    const marker = bytes[at + 1];
    if (marker === 0xda || marker === 0xd9) break; // start of scan / end of image: no more metadata
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    const body = at + 4;
    if (
      marker === 0xe1 &&
      length >= 8 &&
      bytes[body] === 0x45 && // "Exif\0\0"
      bytes[body + 1] === 0x78 &&
      bytes[body + 2] === 0x69 &&
      bytes[body + 3] === 0x66 &&
      bytes[body + 4] === 0 &&
      bytes[body + 5] === 0
    ) {
      return tiffOrientation(bytes.subarray(body + 6, Math.min(at + 2 + length, bytes.length)));
    }
    at += 2 + length;
  }
  return 1;
}

function tiffOrientation(tiff: Uint8Array): number {
  if (tiff.length < 8) return 1;
  const little = tiff[0] === 0x49 && tiff[1] === 0x49; // "II"
  if (!little && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) return 1; // neither "II" nor "MM"
  const u16 = (o: number) => (little ? tiff[o] | (tiff[o + 1] << 8) : (tiff[o] << 8) | tiff[o + 1]);
  const u32 = (o: number) => (little ? u16(o) + u16(o + 2) * 65536 : u16(o) * 65536 + u16(o + 2));
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return 1;
  const entries = u16(ifd);
  for (let i = 0; i < entries; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > tiff.length) return 1;
    if (u16(e) === ORIENTATION_TAG) {
      const v = u16(e + 8); // a SHORT value sits left-justified in the value field
      return v >= 1 && v <= 8 ? v : 1;
    }
  }
  return 1;
}

/**
 * The image turned upright for an EXIF orientation, as Pillow's exif_transpose: 2 mirror, 3 rotate 180,
 * 4 flip, 5 transpose, 6 rotate 90° clockwise, 7 transverse, 8 rotate 90° counter-clockwise.
 */
export function applyOrientation(image: DecodedImage, orientation: number): DecodedImage {
  if (orientation < 2 || orientation > 8) return image;
  const { width: w, height: h, data } = image;
  const ch = image.channels ?? data.length / (w * h);
  const swap = orientation >= 5;
  const ow = swap ? h : w;
  const oh = swap ? w : h;
  // Source (x, y) for output (ox, oy).
  const from: (ox: number, oy: number) => [number, number] = {
    2: (ox: number, oy: number): [number, number] => [w - 1 - ox, oy],
    3: (ox: number, oy: number): [number, number] => [w - 1 - ox, h - 1 - oy],
    4: (ox: number, oy: number): [number, number] => [ox, h - 1 - oy],
    5: (ox: number, oy: number): [number, number] => [oy, ox],
    6: (ox: number, oy: number): [number, number] => [oy, h - 1 - ox],
    7: (ox: number, oy: number): [number, number] => [w - 1 - oy, h - 1 - ox],
    8: (ox: number, oy: number): [number, number] => [w - 1 - oy, ox],
  }[orientation as 2 | 3 | 4 | 5 | 6 | 7 | 8];
  const out = new Uint8Array(ow * oh * ch);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      const [x, y] = from(ox, oy);
      const s = (y * w + x) * ch;
      const d = (oy * ow + ox) * ch;
      for (let c = 0; c < ch; c++) out[d + c] = data[s + c];
    }
  }
  return { data: out, width: ow, height: oh, channels: ch as 1 | 3 | 4 };
}
