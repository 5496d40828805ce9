import type { ReduceLayerDetails, VqaDetails } from '@pumer/vilt';

/**
 * One canvas per reduce layer: the image, and over every original patch what that layer left of it —
 * kept (tinted by its text saliency), merged (filled with its group's hue, a line to the patch the group
 * lives on, which gets a ring of that hue), or pruned (dark, crossed).
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

export function drawLayer(
  canvas: HTMLCanvasElement,
  image: CanvasImageSource,
  details: VqaDetails,
  layer: ReduceLayerDetails,
): void {
  const { rows, cols } = details.grid;
  canvas.width = cols * CELL;
  canvas.height = rows * CELL;
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
  const norm = normaliser(layer);
  const centre = (p: number) => [((p % cols) + 0.5) * CELL, (Math.floor(p / cols) + 0.5) * CELL] as const;
  // Patches merged together share a hue: the group's kept patch gets a ring, its members a fill and a
  // thin line to it.
  const hue = (into: number) => (into < 0 ? 0 : (into * 137.508) % 360);
  const groups = new Set<number>();
  layer.patches.forEach((fate, p) => {
    const x = (p % cols) * CELL;
    const y = Math.floor(p / cols) * CELL;
    if (fate.status === 'pruned') {
      ctx.fillStyle = 'rgba(15, 17, 26, 0.85)';
      ctx.fillRect(x, y, CELL, CELL);
      ctx.strokeStyle = 'rgba(255, 255, 255, 0.3)';
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.moveTo(x + 9, y + 9);
      ctx.lineTo(x + CELL - 9, y + CELL - 9);
      ctx.moveTo(x + CELL - 9, y + 9);
      ctx.lineTo(x + 9, y + CELL - 9);
      ctx.stroke();
      return;
    }
    if (fate.status === 'merged') {
      if (fate.into !== null) groups.add(fate.into);
      ctx.fillStyle = `hsla(${hue(fate.into ?? 0)}, 70%, 62%, 0.38)`;
      ctx.fillRect(x, y, CELL, CELL);
      return;
    }
    ctx.fillStyle = saliencyColour(norm(fate.saliency), 0.5);
    ctx.fillRect(x, y, CELL, CELL);
    ctx.strokeStyle = 'rgba(255, 255, 255, 0.35)';
    ctx.lineWidth = 1;
    ctx.strokeRect(x + 0.5, y + 0.5, CELL - 1, CELL - 1);
  });
  ctx.lineWidth = 1.25;
  layer.patches.forEach((fate, p) => {
    if (fate.status !== 'merged' || fate.into === null) return;
    const [x0, y0] = centre(p);
    const [x1, y1] = fate.into >= 0 ? centre(fate.into) : [6, 6]; // the image [CLS] has no patch: top-left corner
    ctx.strokeStyle = `hsla(${hue(fate.into)}, 90%, 85%, 0.6)`;
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.lineTo(x1, y1);
    ctx.stroke();
  });
  ctx.lineWidth = 3;
  for (const into of groups) {
    if (into < 0) continue;
    const x = (into % cols) * CELL;
    const y = Math.floor(into / cols) * CELL;
    ctx.strokeStyle = `hsl(${hue(into)}, 85%, 62%)`;
    ctx.strokeRect(x + 1.5, y + 1.5, CELL - 3, CELL - 3);
  }
}
