import type { VqaDetails } from '@pumer/vilt';
import { drawLayer, summarise } from './overlay.js';

/**
 * The figures of one image pass: the input image, then one overlay per reduce layer (overlay.ts) with what
 * it did to the image and text tokens. VQA and retrieval show one pass; NLVR2 one per image.
 */

const CELL = 32; // on-screen pixels per patch of the input figure, as overlay.ts draws its layers

function figure(canvas: HTMLCanvasElement, caption: string | HTMLElement, className?: string): HTMLElement {
  const el = document.createElement('figure');
  if (className) el.className = className;
  const figcaption = document.createElement('figcaption');
  figcaption.append(caption);
  el.append(canvas, figcaption);
  return el;
}

export function passFigures(
  image: CanvasImageSource,
  details: VqaDetails,
  inputCaption: string,
): HTMLElement[] {
  const input = document.createElement('canvas');
  input.width = details.grid.cols * CELL;
  input.height = details.grid.rows * CELL;
  const ctx = input.getContext('2d')!;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(image, 0, 0, input.width, input.height);
  const out = [figure(input, inputCaption)];
  if (details.reduceLayers.length === 0) {
    out.push(
      Object.assign(document.createElement('p'), {
        className: 'note',
        textContent: 'Schedule off: every layer keeps all tokens.',
      }),
    );
  }
  for (const layer of details.reduceLayers) {
    const canvas = document.createElement('canvas');
    drawLayer(canvas, image, details, layer);
    const s = summarise(layer);
    const caption = document.createElement('span');
    caption.innerHTML = `<b>layer ${layer.layer}</b> · image ${layer.imageIn} → ${layer.imageOut}, text ${layer.textIn} → ${layer.textOut}<br><span>${s.kept} kept · ${s.merged} merged · ${s.pruned} pruned</span>`;
    out.push(figure(canvas, caption, 'reduce-layer'));
  }
  return out;
}

/** Text + image tokens going in, and what is left after the last layer: "16 text + 65 image → 13 + 41". */
export function tokenSummary(details: VqaDetails): string {
  const first = details.layers[0]!;
  const last = details.layers[details.layers.length - 1]!;
  return `${first.textIn} text + ${first.imageIn} image → ${last.textOut} + ${last.imageOut}`;
}

/** Text + image tokens after every layer: "L0 16+65 · L1 13+59 · …". */
export function tokensPerLayer(details: VqaDetails): string {
  return details.layers.map((l) => `L${l.layer} ${l.textOut}+${l.imageOut}`).join(' · ');
}
