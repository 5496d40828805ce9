/** Plain-text helpers for the human-readable output (JSON output never goes through here). */

/** A left/right aligned text table; numbers-looking columns are right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const numeric = header.map(
    (_, c) => rows.length > 0 && rows.every((r) => /^[-+\d.,×x%()e ]*$/.test(r[c] ?? '')),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) => (numeric[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

export function fixed(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

export function mib(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(2);
}

export function gflops(flops: number): string {
  return (flops / 1e9).toFixed(3);
}

export function percent(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/**
 * A difference in percentage points with its sign always shown — `+3.00`, `−3.00` (U+2212 minus), `±0.00`
 * when it rounds to zero — so which side is better reads without knowing the order of the subtraction.
 */
export function signedPoints(fractionDelta: number, digits = 2): string {
  const points = 100 * fractionDelta;
  const magnitude = Math.abs(points).toFixed(digits);
  if (Number(magnitude) === 0) return `±${magnitude}`;
  return `${points > 0 ? '+' : '−'}${magnitude}`;
}
