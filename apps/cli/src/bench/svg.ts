import { chartOpening, escapeXml } from '../svg.js';
import type { BenchReport } from './types.js';

/** Distinct, colour-blind-friendly series colours (Okabe–Ito). */
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];

/** A step for the y grid: 0.25, 0.5, 1, 2, … whichever gives 4–8 lines. */
function gridStep(max: number): number {
  for (const step of [0.1, 0.25, 0.5, 1, 2, 5, 10]) if (max / step <= 8) return step;
  return Math.ceil(max / 8);
}

/**
 * Speed-up over unreduced against schedule, as grouped bars (one bar per backend × batch) with the
 * scheduler's ideal as a dashed line over each group. Hand-written SVG, no dependencies.
 */
export function benchSvg(report: BenchReport): string {
  const rows = report.rows.filter((r) => r.schedule !== 'unreduced' && r.speedup !== null);
  const schedules = [...new Set(rows.map((r) => r.schedule))];
  const series = [...new Set(rows.map((r) => `${r.backend}/${r.provider} batch ${r.batch}`))];
  const width = 760;
  const height = 420;
  const left = 60;
  const right = 200;
  const top = 50;
  const bottom = 60;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const maxY = Math.max(1.2, ...rows.map((r) => r.speedup ?? 0), ...rows.map((r) => r.idealSpeedup)) * 1.1;
  const y = (v: number) => top + plotH - (v / maxY) * plotH;
  const out: string[] = [];
  const name = String(report.geometry.name);
  out.push(
    ...chartOpening(
      width,
      height,
      left,
      `PuMer speed-up over unreduced against schedule — ${name}`,
      `PuMer speed-up over unreduced — ${name}`,
    ),
  );
  out.push(
    `<text x="${left}" y="40" fill="#555">${escapeXml('bars: measured (ratio of median times); dashed: ideal (FLOPs ratio)')}</text>`,
  );
  const step = gridStep(maxY);
  for (let v = 0; v <= maxY + 1e-9; v += step) {
    const yy = y(v).toFixed(1);
    out.push(`<line x1="${left}" x2="${left + plotW}" y1="${yy}" y2="${yy}" stroke="#e5e5e5"/>`);
    out.push(
      `<text x="${left - 8}" y="${yy}" text-anchor="end" dominant-baseline="middle" fill="#333">${v.toFixed(step < 0.5 ? 2 : step < 1 ? 1 : 0)}×</text>`,
    );
  }
  out.push(
    `<line x1="${left}" x2="${left + plotW}" y1="${y(1).toFixed(1)}" y2="${y(1).toFixed(1)}" stroke="#888" stroke-width="1.5"/>`,
  );
  out.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#333"/>`);
  out.push(`<line x1="${left}" x2="${left + plotW}" y1="${top + plotH}" y2="${top + plotH}" stroke="#333"/>`);
  const groupW = plotW / Math.max(1, schedules.length);
  const barW = Math.min(48, (groupW * 0.8) / Math.max(1, series.length));
  // Drawn in layers: ideal lines under the bars, every label on top (with a white halo) so none hides another.
  const labels: string[] = [];
  const halo = 'stroke="#fff" stroke-width="3" paint-order="stroke"';
  schedules.forEach((sched, gi) => {
    const ideal = rows.find((r) => r.schedule === sched)?.idealSpeedup;
    if (ideal !== undefined) {
      const yy = y(ideal).toFixed(1);
      out.push(
        `<line x1="${(left + gi * groupW + 6).toFixed(1)}" x2="${(left + (gi + 1) * groupW - 6).toFixed(1)}" y1="${yy}" y2="${yy}" stroke="#C00" stroke-width="2" stroke-dasharray="6 4"><title>${escapeXml(`ideal ${ideal.toFixed(2)}×`)}</title></line>`,
      );
      labels.push(
        `<text x="${(left + (gi + 1) * groupW - 6).toFixed(1)}" y="${(Number(yy) - 5).toFixed(1)}" text-anchor="end" font-size="10" fill="#C00" ${halo}>ideal ${ideal.toFixed(2)}×</text>`,
      );
    }
    const x0 = left + gi * groupW + (groupW - barW * series.length) / 2;
    series.forEach((name, si) => {
      const row = rows.find(
        (r) => r.schedule === sched && `${r.backend}/${r.provider} batch ${r.batch}` === name,
      );
      if (!row || row.speedup === null) return;
      const x = x0 + si * barW;
      const top_ = y(row.speedup);
      out.push(
        `<rect x="${x.toFixed(1)}" y="${top_.toFixed(1)}" width="${(barW - 3).toFixed(1)}" height="${(top + plotH - top_).toFixed(1)}" fill="${PALETTE[si % PALETTE.length]}"><title>${escapeXml(`${sched}, ${name}: ${row.speedup.toFixed(2)}× (ideal ${row.idealSpeedup.toFixed(2)}×)`)}</title></rect>`,
      );
      labels.push(
        `<text x="${(x + (barW - 3) / 2).toFixed(1)}" y="${(top_ - 4).toFixed(1)}" text-anchor="middle" font-size="10" fill="#222" ${halo}>${row.speedup.toFixed(2)}</text>`,
      );
    });
    labels.push(
      `<text x="${(left + (gi + 0.5) * groupW).toFixed(1)}" y="${top + plotH + 20}" text-anchor="middle" font-size="13">${escapeXml(sched)}</text>`,
    );
  });
  out.push(...labels);
  out.push(
    `<text x="${left + plotW / 2}" y="${height - 12}" text-anchor="middle" fill="#333">schedule</text>`,
  );
  series.forEach((name, si) => {
    const ly = top + 10 + si * 20;
    out.push(
      `<rect x="${left + plotW + 16}" y="${ly - 9}" width="12" height="12" fill="${PALETTE[si % PALETTE.length]}"/>`,
    );
    out.push(`<text x="${left + plotW + 34}" y="${ly + 1}">${escapeXml(name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
