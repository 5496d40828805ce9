import { describeSchedule } from '@pumer/core';
import { chartOpening, escapeXml } from '../svg.js';
import { speedupOf, type TunePoint, type TuneResult } from './search.js';

/**
 * The accuracy / speed-up frontier of a tune run as a scatter plot: every evaluated schedule (within budget
 * or over it), the frontier joined by a line, the budget and the unreduced accuracy as dashed lines, the chosen
 * schedule and the reference ringed. Speed-ups are measured where timed, else the scheduler's prediction
 * (hollow points). Hand-written SVG, no dependencies.
 */
export function frontierSvg(result: TuneResult, title: string): string {
  const width = 760;
  const height = 440;
  const left = 64;
  const right = 190;
  const top = 50;
  const bottom = 56;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const pts = result.points;
  const xs = pts.map(speedupOf);
  const ys = pts.map((p) => p.accuracy * 100);
  const base = result.unreducedAccuracy * 100;
  const floor = base - result.maxDrop;
  const xMin = Math.min(1, ...xs);
  const xMax = Math.max(...xs, 1.1) * 1.03;
  const yMin = Math.max(0, Math.floor(Math.min(...ys, floor) - 2));
  const yMax = Math.min(100, Math.ceil(Math.max(...ys, base) + 1));
  const x = (v: number) => left + ((v - xMin) / (xMax - xMin)) * plotW;
  const y = (v: number) => top + plotH - ((v - yMin) / (yMax - yMin)) * plotH;
  const out: string[] = [];
  out.push(...chartOpening(width, height, left, title));
  const yStep = yMax - yMin > 20 ? 5 : yMax - yMin > 8 ? 2 : 1;
  for (let v = Math.ceil(yMin / yStep) * yStep; v <= yMax; v += yStep) {
    out.push(
      `<line x1="${left}" x2="${left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/>`,
      `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${v}%</text>`,
    );
  }
  const xStep = xMax - xMin > 2 ? 0.5 : xMax - xMin > 0.8 ? 0.2 : 0.1;
  for (let v = Math.ceil(xMin / xStep) * xStep; v <= xMax + 1e-9; v += xStep) {
    out.push(
      `<line x1="${x(v)}" x2="${x(v)}" y1="${top}" y2="${top + plotH}" stroke="#f0f0f0"/>`,
      `<text x="${x(v)}" y="${top + plotH + 16}" text-anchor="middle">${v.toFixed(1)}×</text>`,
    );
  }
  out.push(
    `<text x="${left + plotW / 2}" y="${height - 14}" text-anchor="middle">speed-up over unreduced (measured; hollow: predicted from FLOPs)</text>`,
    `<text transform="translate(16 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">calibration accuracy</text>`,
    `<line x1="${left}" x2="${left + plotW}" y1="${y(base)}" y2="${y(base)}" stroke="#000" stroke-dasharray="2 3"/>`,
    `<text x="${left + plotW + 6}" y="${y(base) + 4}">unreduced ${base.toFixed(2)}%</text>`,
    `<line x1="${left}" x2="${left + plotW}" y1="${y(floor)}" y2="${y(floor)}" stroke="#D55E00" stroke-dasharray="6 4"/>`,
    `<text x="${left + plotW + 6}" y="${y(floor) + 4}" fill="#D55E00">budget −${result.maxDrop} pt</text>`,
  );
  const frontier = [...result.frontier].sort((a, b) => speedupOf(a) - speedupOf(b));
  out.push(
    `<polyline fill="none" stroke="#0072B2" stroke-width="1.5" points="${frontier.map((p) => `${x(speedupOf(p))},${y(p.accuracy * 100)}`).join(' ')}"/>`,
  );
  const dot = (p: TunePoint) => {
    const colour = p.withinBudget ? '#009E73' : '#999';
    const fill = p.measuredSpeedup === undefined ? '#fff' : colour;
    return `<circle cx="${x(speedupOf(p))}" cy="${y(p.accuracy * 100)}" r="3.5" fill="${fill}" stroke="${colour}"><title>${escapeXml(`${describeSchedule(p.config)}: ${(p.accuracy * 100).toFixed(2)}%, ${speedupOf(p).toFixed(2)}×`)}</title></circle>`;
  };
  for (const p of pts) out.push(dot(p));
  const ring = (p: TunePoint, colour: string, label: string) =>
    out.push(
      `<circle cx="${x(speedupOf(p))}" cy="${y(p.accuracy * 100)}" r="8" fill="none" stroke="${colour}" stroke-width="2"/>`,
      `<text x="${x(speedupOf(p)) + 10}" y="${y(p.accuracy * 100) - 8}" fill="${colour}">${escapeXml(label)}</text>`,
    );
  ring(result.reference, '#CC79A7', 'reference');
  if (result.chosen) ring(result.chosen, '#0072B2', 'chosen');
  const legend = [
    ['#009E73', 'within budget'],
    ['#999', 'over budget'],
    ['#0072B2', 'frontier'],
  ];
  legend.forEach(([colour, label], i) => {
    const ly = top + 60 + i * 18;
    out.push(
      `<circle cx="${left + plotW + 12}" cy="${ly}" r="4" fill="${colour}"/>`,
      `<text x="${left + plotW + 22}" y="${ly + 4}">${label}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
