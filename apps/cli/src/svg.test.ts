import { describe, expect, it } from 'vitest';
import { chartOpening, escapeXml } from './svg.js';

describe('chart SVG', () => {
  it('escapes text for content and attributes', () => {
    expect(escapeXml('a < b & "c" > d')).toBe('a &lt; b &amp; &quot;c&quot; &gt; d');
  });

  it('opens a chart with its size, an escaped title and heading at the plot edge', () => {
    const [svg, title, ground, heading] = chartOpening(300, 200, 40, 'x <y>', 'h & k');
    expect(svg).toContain('width="300" height="200" viewBox="0 0 300 200"');
    expect(title).toBe('<title>x &lt;y&gt;</title>');
    expect(ground).toBe('<rect width="300" height="200" fill="#fff"/>');
    expect(heading).toBe('<text x="40" y="24" font-size="15" font-weight="600">h &amp; k</text>');
    expect(chartOpening(300, 200, 40, 'same')[3]).toContain('>same</text>');
  });
});
