import type { ReduceLayerDetails, VqaDetails } from '@pumer/vilt';

/**
 * One canvas per reduce layer: the image, and over every original patch what that layer left of it —
 * kept (tinted by its text saliency), merged (a line to the patch its group lives on), or pruned (dark).
 */

const CELL = 32; // on-screen pixels per patch

/** A blue → teal → yellow → red ramp for t in [0, 1]. */
export function saliencyColour(t: number, alpha: number): string {
  const stops = [
    [49, 54, 149],
    [69, 170, 180],
    [253, 219, 80],
    [215, 48, 39],
  ] as const;
  const x = Math.min(Math.max(t, 0), 1) * (stops.length - 1);
  const i = Math.min(Math.floor(x), stops.length - 2);
  const f = x - i;
  const c = stops[i]!.map((v, k) => Math.round(v + (stops[i + 1]![k]! - v) * f));
  return `rgba(${c[0]}, ${c[1]}, ${c[2]}, ${alpha})`;
}

function normaliser(layer: ReduceLayerDetails): (s: number | null) => number {
  const values = layer.patches.map((p) => p.saliency).filter((s): s is number => s !== null);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return (s) => (s === null || !(hi > lo) ? 0.5 : (s - lo) / (hi - lo));
}

export interface LayerSummary {
  readonly kept: number;
  readonly merged: number;
  readonly pruned: number;
}

export function summarise(layer: ReduceLayerDetails): LayerSummary {
  const count = (s: string) => layer.patches.filter((p) => p.status === s).length;
  return { kept: count('kept'), merged: count('merged'), pruned: count('pruned') };
}

export function drawLayer(canvas: HTMLCanvasElement, image: CanvasImageSource, details: VqaDetails, layer: ReduceLayerDetails): void {
  const { rows, cols } = details.grid;
  canvas.width = cols * CELL;
  canvas.height = rows * CELL;
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
  const norm = normaliser(layer);
  const centre = (p: number) => [((p % cols) + 0.5) * CELL, (Math.floor(p / cols) + 0.5) * CELL] as const;
  layer.patches.forEach((fate, p) => {
    const x = (p % cols) * CELL;
    const y = Math.floor(p / cols) * CELL;
    if (fate.status === 'pruned') {
      ctx.fillStyle = 'rgba(15, 17, 26, 0.82)';
      ctx.fillRect(x, y, CELL, CELL);
      ctx.strokeStyle = 'rgba(255, 255, 255, 0.25)';
      ctx.beginPath();
      ctx.moveTo(x + 8, y + 8);
      ctx.lineTo(x + CELL - 8, y + CELL - 8);
      ctx.moveTo(x + CELL - 8, y + 8);
      ctx.lineTo(x + 8, y + CELL - 8);
      ctx.stroke();
      return;
    }
    ctx.fillStyle = saliencyColour(norm(fate.saliency), fate.status === 'kept' ? 0.5 : 0.28);
    ctx.fillRect(x, y, CELL, CELL);
    ctx.strokeStyle = fate.status === 'kept' ? 'rgba(255, 255, 255, 0.55)' : 'rgba(255, 255, 255, 0.2)';
    ctx.strokeRect(x + 0.5, y + 0.5, CELL - 1, CELL - 1);
  });
  // Merge lines on top: from each merged patch to the patch its group is kept on.
  ctx.lineWidth = 2;
  layer.patches.forEach((fate, p) => {
    if (fate.status !== 'merged' || fate.into === null) return;
    const [x0, y0] = centre(p);
    const [x1, y1] = fate.into >= 0 ? centre(fate.into) : [4, 4]; // the image [CLS] has no patch: top-left corner
    ctx.strokeStyle = 'rgba(255, 255, 255, 0.9)';
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.lineTo(x1, y1);
    ctx.stroke();
    ctx.fillStyle = 'rgba(255, 255, 255, 0.95)';
    ctx.beginPath();
    ctx.arc(x0, y0, 3, 0, Math.PI * 2);
    ctx.fill();
  });
}
