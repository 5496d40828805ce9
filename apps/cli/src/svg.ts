/** What every chart the CLI draws shares (bench/svg.ts, tune/frontier-svg.ts): hand-written SVG, no dependencies. */

/** Text made safe for SVG content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * The opening of a chart: the svg element, its title (the tooltip), a white ground and the heading on top,
 * starting at `left` (the plot's left edge).
 */
export function chartOpening(
  width: number,
  height: number,
  left: number,
  title: string,
  heading = title,
): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${left}" y="24" font-size="15" font-weight="600">${escapeXml(heading)}</text>`,
  ];
}
