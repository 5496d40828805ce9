import type { Backend } from '@pumer/core';
import { Comparison } from './compare.js';
import { blockArgsFromGolden, mergeArgsFromGolden } from './convert.js';
import { type GoldenCase, parseGoldenCase } from './format.js';

/** One golden case's outcome (JSON-able, so a browser page can return it). */
export interface CaseResult {
  /** The case's name (the file name when the file could not be read). */
  readonly name: string;
  /** The file it came from, when read from a directory. */
  readonly file?: string;
  readonly passed: boolean;
  /** Largest |actual - golden| over every compared value; NaN when nothing was compared. */
  readonly maxAbsErr: number;
  /** Why it failed. */
  readonly reason?: string;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Runs one parsed case through the Backend contract and compares every output with the golden values. */
export async function runGoldenCase(c: GoldenCase, backend: Backend): Promise<CaseResult> {
  const cmp = new Comparison();
  try {
    if (c.kind === 'vilt_block') {
      const res = await backend.runBlock(blockArgsFromGolden(c));
      cmp.count('text_len', res.textLen, c.scalars['text_len']!);
      cmp.tensor('x', res.x, c.outputs['x']!);
      cmp.tensor('mask', res.mask, c.outputs['mask']!);
      cmp.tensor('attn', res.attn, c.outputs['attn']!);
    } else {
      const res = await backend.merger.merge(mergeArgsFromGolden(c));
      cmp.tensor('x', res.x, c.outputs['x']!);
      if (c.kind === 'tome_merge') cmp.tensor('size', res.size, c.outputs['size']!);
    }
  } catch (err) {
    return { name: c.name, passed: false, maxAbsErr: Number.NaN, reason: `error: ${message(err)}` };
  }
  return cmp.ok
    ? { name: c.name, passed: true, maxAbsErr: cmp.maxAbsErr }
    : { name: c.name, passed: false, maxAbsErr: cmp.maxAbsErr, reason: cmp.problems.join('; ') };
}

/** Parses and runs one document (already JSON-decoded); a malformed one is a failed case, not a throw. */
export async function runGoldenDocument(doc: unknown, source: string, backend: Backend): Promise<CaseResult> {
  let c: GoldenCase;
  try {
    c = parseGoldenCase(doc, source);
  } catch (err) {
    return {
      name: source,
      passed: false,
      maxAbsErr: Number.NaN,
      reason: `malformed golden file: ${message(err)}`,
    };
  }
  return runGoldenCase(c, backend);
}
