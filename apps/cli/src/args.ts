import {
  AUTO_BACKEND,
  BACKEND_PACKAGES,
  findSaliencyMethod,
  MERGE_STYLES,
  type MergeStyle,
  type Saliency,
  SALIENCY_RULES,
  scheduleNames,
} from '@pumer/core';
import { InvalidArgumentError } from 'commander';

/**
 * The commander argument parsers. They accept what core accepts (schedule names from its registry, saliency
 * aliases, backend names from its table) and throw InvalidArgumentError, which commander reports and the CLI
 * exits 2 with.
 */

/** Backends a command can be told to run on (`auto` is the default of run, eval and bench). */
export function backendNames(): string[] {
  return Object.keys(BACKEND_PACKAGES);
}

export function backendChoices(): string[] {
  return [AUTO_BACKEND, ...backendNames()];
}

export function parseRatio(value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v))
    throw new InvalidArgumentError(`"${value}" is not a number.`);
  if (v < 0 || v >= 1) throw new InvalidArgumentError(`ratio must be in [0, 1), got ${value}.`);
  return v;
}

/** A number of accuracy points >= 0 (`--max-drop 1`: one percentage point). */
export function parsePoints(value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || v < 0)
    throw new InvalidArgumentError(`expected a number of points >= 0, got "${value}".`);
  return v;
}

export function parseIntList(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.some((p) => !/^\d+$/.test(p))) {
    throw new InvalidArgumentError(`expected comma-separated non-negative integers, got "${value}".`);
  }
  return parts.map(Number);
}

export function parsePositiveIntList(value: string): number[] {
  const list = parseIntList(value);
  if (list.some((n) => n < 1)) throw new InvalidArgumentError(`expected positive integers, got "${value}".`);
  return list;
}

export function parsePositiveInt(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1)
    throw new InvalidArgumentError(`expected a positive integer, got "${value}".`);
  return Number(value);
}

export function parseNonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value.trim()))
    throw new InvalidArgumentError(`expected a non-negative integer, got "${value}".`);
  return Number(value);
}

/** A saliency method or one of its aliases (fh, mh, km), as the method's full name. */
export function parseSaliency(value: string): Saliency {
  const method = findSaliencyMethod(value);
  if (method === undefined) {
    const names = Object.values(SALIENCY_RULES).flatMap((r) => [r.method, ...r.aliases]);
    throw new InvalidArgumentError(`expected one of ${names.join(', ')}.`);
  }
  return method;
}

export function parseStyle(value: string): MergeStyle {
  if (!(MERGE_STYLES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${MERGE_STYLES.join(', ')}.`);
  }
  return value as MergeStyle;
}

/** A name core's schedule registry knows (aliases and `model` included). */
export function parseScheduleName(value: string): string {
  if (!scheduleNames().includes(value)) {
    throw new InvalidArgumentError(`expected one of ${scheduleNames().join(', ')}.`);
  }
  return value;
}

/** A comma-separated list whose every item is one of `allowed()` (read when parsing, so registrations count). */
export function parseList(allowed: () => readonly string[], what: string) {
  return (value: string): string[] => {
    const items = value.split(',').map((s) => s.trim());
    for (const item of items) {
      if (!allowed().includes(item))
        throw new InvalidArgumentError(
          `unknown ${what} "${item}" (expected one of ${allowed().join(', ')}).`,
        );
    }
    return items;
  };
}
