import { type FloatTensor, floatTensor, roundHalfEven } from '@pumer/core';
import { checkDecodedImage, type DecodedImage, RESAMPLE, resizePixels } from '@pumer/vilt';

/**
 * METER's images at evaluation, as the authors' CLIP transform prepares them with torchvision on PIL images:
 * the image as RGB, Resize(S, bicubic) of the shorter side (Pillow's antialiased bicubic, which @pumer/vilt's
 * resizePixels reproduces), CenterCrop(S), ToTensor (/255 in float32), Normalize with CLIP's mean and std.
 */

/** CLIP's normalisation (OpenAI's training set statistics). */
export const CLIP_MEAN = Object.freeze([0.48145466, 0.4578275, 0.40821073]);
export const CLIP_STD = Object.freeze([0.26862954, 0.26130258, 0.27577711]);

/**
 * torchvision's Resize(size) with one int: the shorter side becomes `size`, the longer `int(size * long /
 * short)` (truncated); a side already equal to `size` keeps the image's shape.
 */
export function clipResizeTarget(
  width: number,
  height: number,
  size: number,
): { width: number; height: number } {
  if (width <= height) return { width: size, height: Math.trunc((size * height) / width) };
  return { width: Math.trunc((size * width) / height), height: size };
}

/** torchvision's CenterCrop offset along one side: int(round((side - crop) / 2.0)), Python's half-to-even. */
export function centerCropOffset(side: number, crop: number): number {
  return roundHalfEven((side - crop) / 2);
}

/** The image's pixels as interleaved RGB (grey repeated, alpha dropped: PIL's convert('RGB')). */
function rgb(image: DecodedImage, channels: 1 | 3 | 4): Uint8Array | Uint8ClampedArray {
  if (channels === 3) return image.data;
  const n = image.width * image.height;
  const out = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < 3; c++) out[3 * i + c] = image.data[i * channels + (channels === 1 ? 0 : c)];
  return out;
}

/** Prepares a decoded image for METER: [3, S, S] float32, CLIP-normalised. `source` names it in errors. */
export function prepareMeterImage(image: DecodedImage, imageSize: number, source = 'image'): FloatTensor {
  const channels = checkDecodedImage(image, source);
  const { width, height } = image;
  // The shorter side becomes S, so the crop always fits.
  const target = clipResizeTarget(width, height, imageSize);
  const pixels = resizePixels(
    rgb(image, channels),
    width,
    height,
    3,
    target.width,
    target.height,
    RESAMPLE.bicubic,
  );
  const top = centerCropOffset(target.height, imageSize);
  const left = centerCropOffset(target.width, imageSize);
  const plane = imageSize * imageSize;
  const out = new Float32Array(3 * plane);
  const f32 = Math.fround;
  for (let c = 0; c < 3; c++) {
    const mean = f32(CLIP_MEAN[c]);
    const std = f32(CLIP_STD[c]);
    for (let y = 0; y < imageSize; y++) {
      const row = ((top + y) * target.width + left) * 3 + c;
      for (let x = 0; x < imageSize; x++) {
        // ToTensor divides by 255 in float32; Normalize subtracts and divides in float32.
        const v = f32(pixels[row + 3 * x] / 255);
        out[c * plane + y * imageSize + x] = f32(f32(v - mean) / std);
      }
    }
  }
  return floatTensor(out, [3, imageSize, imageSize]);
}
