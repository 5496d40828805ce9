import type { MeterDetails, MeterStepCounts } from '@pumer/meter';

/**
 * What the page shows of a METER pass: its token counts per co-attention step (METER's pipelines report counts,
 * not which patch went where, so there are no patch overlays). Pure, so it is tested in Node.
 */

/** Text + image tokens going into the first step and left after the last: "16 text + 17 image → 10 + 7". */
export function meterTokenSummary(steps: readonly MeterStepCounts[]): string {
  const first = steps[0];
  const last = steps[steps.length - 1];
  if (!first || !last) return '—';
  return `${first.textIn} text + ${first.imageIn} image → ${last.textOut} + ${last.imageOut}`;
}

/** Text + image tokens after every co-attention step: "S0 13+11 · S1 10+7". */
export function meterTokensPerStep(steps: readonly MeterStepCounts[]): string {
  return steps.map((s) => `S${s.step} ${s.textOut}+${s.imageOut}`).join(' · ');
}

/** One line under a METER pass's input image. */
export function meterPassNote(steps: readonly MeterStepCounts[]): string {
  const reducing = steps.filter((s) => s.kind !== 'none').map((s) => s.step);
  return reducing.length === 0
    ? 'METER, schedule off: every co-attention step keeps all tokens.'
    : `METER: the text layers of steps ${reducing.join(', ')} prune and merge the image tokens (and merge text tokens); ${meterTokensPerStep(steps)} (text+image after each step).`;
}

/** The per-pass step counts of a METER result (NLVR2: left, right). */
export function meterPasses(details: MeterDetails | undefined): readonly (readonly MeterStepCounts[])[] {
  return details?.passes ?? [];
}
