import { type LayerTrace, PumerError } from '@pumer/core';

/**
 * Follows every original image patch through the layers of one example by composing the per-layer
 * LayerTraces (whose indices are relative to each layer's own input and output), so a UI can draw what
 * happened: which patches were pruned, and which were merged into which.
 */

/** `into` value for a patch merged into the image [CLS] token. */
export const INTO_IMAGE_CLS = -1;
/** `into` value for a patch merged into a text token (ToMe over the whole sequence can do that). */
export const INTO_TEXT = -2;
/** `into` value for a patch merged into a padding token (an image padded to a larger one of its batch). */
export const INTO_PADDING = -3;

export type PatchStatus = 'kept' | 'merged' | 'pruned';

export interface PatchFate {
  /** After this layer: the patch's row is its own ('kept'), another token's ('merged'), or gone ('pruned'). */
  readonly status: PatchStatus;
  /** merged: the representative of the row it belongs to (a patch index, INTO_IMAGE_CLS, INTO_TEXT or INTO_PADDING). */
  readonly into: number | null;
  /** pruned: the layer that pruned it. */
  readonly prunedAt: number | null;
  /** pumer layers: the text saliency of the patch's row before pruning (null if already gone, or a ToMe layer). */
  readonly saliency: number | null;
}

export interface LayerCounts {
  readonly layer: number;
  readonly kind: LayerTrace['kind'];
  readonly textIn: number;
  readonly imageIn: number;
  readonly textOut: number;
  readonly imageOut: number;
}

export interface ReduceLayerDetails extends LayerCounts {
  /** One entry per original patch, row-major over the patch grid (image [CLS] excluded). */
  readonly patches: readonly PatchFate[];
  /** The same for the image [CLS] token. */
  readonly imageCls: PatchFate;
}

export interface VqaDetails {
  /** Token counts of every layer (image counts include the image [CLS]). */
  readonly layers: readonly LayerCounts[];
  /** What each reduce layer left of every original patch. */
  readonly reduceLayers: readonly ReduceLayerDetails[];
  /** The patch grid of this example's image. */
  readonly grid: { readonly rows: number; readonly cols: number };
}

const TEXT_REP = -1; // representative tag of a row that holds a text token

function traceError(layer: number, what: string): PumerError {
  return new PumerError('BACKEND', `layer ${layer} trace: ${what}`);
}

/** Picks, for each output row, the input row whose token stays the representative: bipartite merging adds
 * A rows (even positions in the merge order) into B rows (odd positions), so the B member is the destination. */
function destinations(dst: Int32Array, outCount: number, layer: number): Int32Array {
  const dest = new Int32Array(outCount).fill(-1);
  for (let k = 0; k < dst.length; k++) {
    const o = dst[k];
    if (!(o >= 0 && o < outCount)) throw traceError(layer, `output position ${o} outside [0, ${outCount})`);
    if (dest[o] === -1 || (k % 2 === 1 && dest[o] % 2 === 0)) dest[o] = k;
  }
  for (let o = 0; o < outCount; o++)
    if (dest[o] === -1) throw traceError(layer, `output position ${o} receives no token`);
  return dest;
}

/**
 * @param traces the layer traces of a batch (ViltOutputs.layers)
 * @param b the example
 * @param textLen the padded text window T of the input
 * @param grid the image's patch grid
 */
export function composeDetails(
  traces: readonly LayerTrace[],
  b: number,
  textLen: number,
  grid: { rows: number; cols: number },
): VqaDetails {
  const imageTokens = 1 + grid.rows * grid.cols;
  // In a padded batch the image's tokens are followed by padding tokens (u >= imageTokens): followed too, not
  // reported.
  const inputTokens = Math.max(imageTokens, traces[0]?.imageIn ?? imageTokens);
  // row[u]: current row (text + image sequence) of original image token u (0 = image [CLS]); -1 once pruned.
  const row = new Int32Array(inputTokens);
  const prunedAt = new Int32Array(inputTokens).fill(-1);
  let rowRep = new Int32Array(textLen + inputTokens);
  for (let t = 0; t < textLen; t++) rowRep[t] = TEXT_REP;
  for (let u = 0; u < inputTokens; u++) {
    row[u] = textLen + u;
    rowRep[textLen + u] = u;
  }
  const layers: LayerCounts[] = [];
  const reduceLayers: ReduceLayerDetails[] = [];
  for (const tr of traces) {
    const counts: LayerCounts = {
      layer: tr.layer,
      kind: tr.kind,
      textIn: tr.textIn,
      imageIn: tr.imageIn,
      textOut: tr.textOut,
      imageOut: tr.imageOut,
    };
    layers.push(counts);
    if (tr.kind === 'none') continue;
    const nIn = tr.textIn + tr.imageIn;
    const nOut = tr.textOut + tr.imageOut;
    if (rowRep.length !== nIn)
      throw traceError(tr.layer, `sees ${nIn} tokens but the previous layer produced ${rowRep.length}`);
    const nextRep = new Int32Array(nOut);
    const saliency = new Float64Array(inputTokens).fill(Number.NaN);
    if (tr.kind === 'pumer') {
      if (!tr.keepIdx || !tr.imageDst)
        throw traceError(tr.layer, 'a pumer layer must report keepIdx and imageDst');
      const keep = tr.keepIdx.shape[1];
      const keepIdx = tr.keepIdx.data.subarray(b * keep, (b + 1) * keep);
      const imageDst = tr.imageDst.data.subarray(b * keep, (b + 1) * keep);
      const rankOf = new Int32Array(tr.imageIn).fill(-1);
      for (let k = 0; k < keep; k++) {
        if (!(keepIdx[k] >= 0 && keepIdx[k] < tr.imageIn))
          throw traceError(tr.layer, `keepIdx ${keepIdx[k]} outside [0, ${tr.imageIn})`);
        rankOf[keepIdx[k]] = k;
      }
      const dest = destinations(imageDst, tr.imageOut, tr.layer);
      for (let t = 0; t < tr.textOut; t++) nextRep[t] = TEXT_REP;
      for (let o = 0; o < tr.imageOut; o++) nextRep[tr.textOut + o] = rowRep[tr.textIn + keepIdx[dest[o]]];
      const sal = tr.imageSaliency;
      for (let u = 0; u < inputTokens; u++) {
        if (row[u] < 0) continue;
        const q = row[u] - tr.textIn;
        if (sal) saliency[u] = sal.data[b * tr.imageIn + q];
        const k = rankOf[q];
        if (k < 0) {
          row[u] = -1;
          prunedAt[u] = tr.layer;
        } else {
          row[u] = tr.textOut + imageDst[k];
        }
      }
    } else {
      if (!tr.tokenDst) throw traceError(tr.layer, 'a tome layer must report tokenDst');
      const tokenDst = tr.tokenDst.data.subarray(b * nIn, (b + 1) * nIn);
      const dest = destinations(tokenDst, nOut, tr.layer);
      for (let o = 0; o < nOut; o++) nextRep[o] = rowRep[dest[o]];
      for (let u = 0; u < inputTokens; u++) if (row[u] >= 0) row[u] = tokenDst[row[u]];
    }
    rowRep = nextRep;
    const fate = (u: number): PatchFate => {
      if (row[u] < 0)
        return { status: 'pruned', into: null, prunedAt: prunedAt[u], saliency: nanToNull(saliency[u]) };
      const rep = rowRep[row[u]];
      if (rep === u) return { status: 'kept', into: null, prunedAt: null, saliency: nanToNull(saliency[u]) };
      const into =
        rep === TEXT_REP
          ? INTO_TEXT
          : rep === 0
            ? INTO_IMAGE_CLS
            : rep >= imageTokens
              ? INTO_PADDING
              : rep - 1;
      return { status: 'merged', into, prunedAt: null, saliency: nanToNull(saliency[u]) };
    };
    const patches: PatchFate[] = [];
    for (let u = 1; u < imageTokens; u++) patches.push(fate(u));
    reduceLayers.push({ ...counts, patches, imageCls: fate(0) });
  }
  return { layers, reduceLayers, grid: { rows: grid.rows, cols: grid.cols } };
}

function nanToNull(v: number): number | null {
  return Number.isNaN(v) ? null : v;
}
