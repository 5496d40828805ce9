/**
 * Python's round(): ties go to the even neighbour. The reference computes every token count with it, and
 * `round(0.1 * 145)` is 14, not 15 — exact parity depends on this.
 */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) throw new RangeError(`roundHalfEven: ${x} is not finite`);
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
