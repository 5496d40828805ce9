import { type FloatTensor, floatTensor, type IntTensor, intTensor, PumerError } from '@pumer/core';

/** Prepared images as one batch: the pixels padded to a common size and which pixels are real. */
export interface PaddedImages {
  readonly pixelValues: FloatTensor; // [B, C, H, W]
  /** [B, H, W] int32: 1 over each image, 0 over its padding (all ones when every image has the batch's size). */
  readonly pixelMask: IntTensor;
  /** Each image's own [height, width]. */
  readonly sizes: readonly (readonly [number, number])[];
}

/**
 * Pads prepared [C, H, W] images with zeros at the bottom and right to the largest height and width of the
 * batch, with the pixel mask that says where each image is: what Hugging Face's ViltImageProcessor does for
 * several images in one call (`do_pad`), and what ViltInputs.pixelMask expects.
 */
export function padImages(images: readonly FloatTensor[]): PaddedImages {
  if (images.length === 0) throw new PumerError('IMAGE', 'padImages: no image to batch');
  const channels = images[0].shape[0];
  images.forEach((img, i) => {
    if (img.shape.length !== 3 || img.shape[0] !== channels)
      throw new PumerError(
        'IMAGE',
        `padImages: image ${i} is [${img.shape.join(', ')}], expected [${channels}, H, W]`,
      );
  });
  const height = Math.max(...images.map((img) => img.shape[1]));
  const width = Math.max(...images.map((img) => img.shape[2]));
  const plane = height * width;
  const pixels = new Float32Array(images.length * channels * plane);
  const mask = new Int32Array(images.length * plane);
  images.forEach((img, b) => {
    const [, h, w] = img.shape as [number, number, number];
    for (let c = 0; c < channels; c++) {
      for (let y = 0; y < h; y++) {
        const from = (c * h + y) * w;
        pixels.set(img.data.subarray(from, from + w), ((b * channels + c) * height + y) * width);
      }
    }
    for (let y = 0; y < h; y++) mask.fill(1, b * plane + y * width, b * plane + y * width + w);
  });
  return {
    pixelValues: floatTensor(pixels, [images.length, channels, height, width]),
    pixelMask: intTensor(mask, [images.length, height, width]),
    sizes: images.map((img) => [img.shape[1], img.shape[2]] as const),
  };
}
