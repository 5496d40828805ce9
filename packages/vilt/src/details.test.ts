import { floatTensor, intTensor, type LayerTrace, PumerError } from '@pumer/core';
import { describe, expect, it } from 'vitest';
import { composeDetails, INTO_IMAGE_CLS, INTO_TEXT } from './details.js';

// Two text rows; the image is the [CLS] (image token 0) and a 2x2 patch grid (image tokens 1..4 = patches 0..3).
const none = (layer: number, t: number, i: number): LayerTrace => ({
  layer,
  kind: 'none',
  textIn: t,
  imageIn: i,
  textOut: t,
  imageOut: i,
});

const traces: LayerTrace[] = [
  none(0, 2, 5),
  {
    // Prune image token 2 (patch 1); kept in saliency order [3, 0, 4, 1]. Bipartite: A = ranks 0, 2; B = ranks 1, 3.
    // Rank 2 (patch 3) is added into rank 1 (the image [CLS]); output: A rank 0, then B ranks 1 and 3.
    layer: 1,
    kind: 'pumer',
    textIn: 2,
    imageIn: 5,
    textOut: 2,
    imageOut: 3,
    imageSaliency: floatTensor([0.3, 0.2, 0.01, 0.9, 0.25], [1, 5]),
    keepIdx: intTensor([3, 0, 4, 1], [1, 4]),
    imageDst: intTensor([0, 1, 1, 2], [1, 4]),
    textDst: intTensor([0, 1], [1, 2]),
  },
  none(2, 2, 3),
  {
    // Rows now: 0 = patch 2, 1 = [CLS] + patch 3, 2 = patch 0. Kept as [2, 1, 0]; rank 2 (row 0, patch 2) merges into rank 1.
    layer: 3,
    kind: 'pumer',
    textIn: 2,
    imageIn: 3,
    textOut: 2,
    imageOut: 2,
    imageSaliency: floatTensor([0.1, 0.2, 0.3], [1, 3]),
    keepIdx: intTensor([2, 1, 0], [1, 3]),
    imageDst: intTensor([0, 1, 1], [1, 3]),
    textDst: intTensor([0, 1], [1, 2]),
  },
  {
    // ToMe over the whole sequence [text0, text1, patch 0, [CLS] group]: row 2 (patch 0, even: A) merges into text row 1 (odd: B).
    layer: 4,
    kind: 'tome',
    textIn: 2,
    imageIn: 2,
    textOut: 2,
    imageOut: 1,
    tokenDst: intTensor([0, 1, 1, 2], [1, 4]),
  },
];

describe('composeDetails', () => {
  it('follows every original patch through pruning and merging', () => {
    const d = composeDetails(traces, 0, 2, { rows: 2, cols: 2 });
    expect(d.layers.map((l) => [l.layer, l.kind, l.textOut, l.imageOut])).toEqual([
      [0, 'none', 2, 5],
      [1, 'pumer', 2, 3],
      [2, 'none', 2, 3],
      [3, 'pumer', 2, 2],
      [4, 'tome', 2, 1],
    ]);
    expect(d.reduceLayers.map((r) => r.layer)).toEqual([1, 3, 4]);
    const [l1, l3, l4] = d.reduceLayers;
    expect(l1.patches.map((p) => [p.status, p.into, p.prunedAt])).toEqual([
      ['kept', null, null],
      ['pruned', null, 1],
      ['kept', null, null],
      ['merged', INTO_IMAGE_CLS, null],
    ]);
    expect(l1.imageCls.status).toBe('kept');
    expect(l1.patches.map((p) => p.saliency)).toEqual([0.2, 0.01, 0.9, 0.25].map(Math.fround));
    expect(l3.patches.map((p) => [p.status, p.into])).toEqual([
      ['kept', null],
      ['pruned', null],
      ['merged', INTO_IMAGE_CLS],
      ['merged', INTO_IMAGE_CLS],
    ]);
    // Patch 0 sat in row 2 -> saliency 0.3; patch 1 was gone; patch 2 in row 0 (0.1); patch 3 with the [CLS] in row 1 (0.2).
    expect(l3.patches.map((p) => p.saliency)).toEqual(
      [0.3, null, 0.1, 0.2].map((v) => (v === null ? null : Math.fround(v))),
    );
    expect(l3.patches[1].prunedAt).toBe(1);
    expect(l4.patches.map((p) => [p.status, p.into])).toEqual([
      ['merged', INTO_TEXT],
      ['pruned', null],
      ['merged', INTO_IMAGE_CLS],
      ['merged', INTO_IMAGE_CLS],
    ]);
    expect(l4.imageCls).toMatchObject({ status: 'kept', into: null });
  });

  it('reports traces that do not fit together', () => {
    const broken: LayerTrace[] = [{ ...traces[1], imageDst: intTensor([0, 1, 1, 7], [1, 4]) }];
    expect(() => composeDetails(broken, 0, 2, { rows: 2, cols: 2 })).toThrow(PumerError);
    expect(() => composeDetails([traces[3]], 0, 2, { rows: 2, cols: 2 })).toThrow(
      /sees 5 tokens but the previous layer produced 7/,
    );
    const noIdx: LayerTrace[] = [{ ...traces[1], keepIdx: undefined }];
    expect(() => composeDetails(noIdx, 0, 2, { rows: 2, cols: 2 })).toThrow(/keepIdx/);
  });
});
