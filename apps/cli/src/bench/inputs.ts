import { floatTensor, intTensor, seededRandom, type ViltInputs } from '@pumer/core';

/**
 * A batch of synthetic inputs for a model: [CLS] w… [SEP] over the full text window (the paper geometry
 * counts all 40 text tokens), and pixels uniform in [-1, 1] (the normalised range), imageSize × imageWidth.
 */
export function syntheticInputs(
  batch: number,
  textTokens: number,
  vocabSize: number,
  imageSize: number,
  seed: number,
  /** Images per example: 2 for NLVR2 (pixels [B, 2, 3, H, W]). */
  numImages = 1,
  /** Pixel width when the images are not square (`imageSize` is then their height). */
  imageWidth = imageSize,
): ViltInputs {
  const rand = seededRandom(seed ^ 0x5eed);
  const ids = new Int32Array(batch * textTokens);
  const CLS = 2;
  const SEP = 3;
  const firstWord = Math.min(5, vocabSize - 1);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < textTokens; t++) {
      ids[b * textTokens + t] =
        t === 0 ? CLS : t === textTokens - 1 ? SEP : firstWord + Math.floor(rand() * (vocabSize - firstWord));
    }
  }
  const pixels = new Float32Array(batch * numImages * 3 * imageSize * imageWidth);
  for (let i = 0; i < pixels.length; i++) pixels[i] = 2 * rand() - 1;
  return {
    inputIds: intTensor(ids, [batch, textTokens]),
    attentionMask: intTensor(new Int32Array(batch * textTokens).fill(1), [batch, textTokens]),
    pixelValues: floatTensor(
      pixels,
      numImages === 1 ? [batch, 3, imageSize, imageWidth] : [batch, numImages, 3, imageSize, imageWidth],
    ),
  };
}
