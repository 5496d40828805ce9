import { PumerError, type PumerErrorCode } from '@pumer/core';

/**
 * Values that arrive as parsed JSON (config.json, tokenizer.json, preprocessor_config.json, a safetensors
 * header) are described in error messages and walked by parsers. `JSON.stringify` is not safe for that: it
 * throws a TypeError on a BigInt (possible when a caller passes objects rather than files) and a RangeError on
 * deep nesting (a safetensors shape nested 20,000 deep overflowed the stack inside the error message itself).
 */

/** Deeper than any checkpoint file needs (tokenizer.json nests about 6 levels), shallow enough for recursion. */
export const MAX_JSON_DEPTH = 64;

/** A short description of any value for an error message; never throws, bounded in depth and length. */
export function describeValue(value: unknown, maxChars = 80): string {
  const text = describe(value, 3);
  return text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
}

function describe(v: unknown, depth: number): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v);
    case 'number':
    case 'boolean':
      return String(v);
    case 'bigint':
      return `${v}n`;
    case 'undefined':
      return 'undefined';
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
  }
  if (v === null) return 'null';
  if (depth === 0) return Array.isArray(v) ? '[…]' : '{…}';
  if (Array.isArray(v)) {
    const items = v.slice(0, 8).map((x) => describe(x, depth - 1));
    return `[${items.join(', ')}${v.length > 8 ? ', …' : ''}]`;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return `a ${(v as object).constructor?.name ?? 'object'}`;
  const entries = Object.entries(v as Record<string, unknown>);
  const shown = entries.slice(0, 8).map(([k, x]) => `${JSON.stringify(k)}: ${describe(x, depth - 1)}`);
  return `{${shown.join(', ')}${entries.length > 8 ? ', …' : ''}}`;
}

/**
 * Checks that `value` is plain JSON data (objects, arrays, strings, finite numbers, booleans, null; an
 * `undefined` property counts as absent) nested at most MAX_JSON_DEPTH deep, without recursing. Anything
 * else (a BigInt, a function, a Map, a cycle, NaN) is refused with `code`, naming where it is in `source`.
 */
export function checkJsonValue(value: unknown, source: string, code: PumerErrorCode = 'CONFIG'): void {
  const stack: { v: unknown; path: string; depth: number; inArray: boolean }[] = [
    { v: value, path: '', depth: 0, inArray: false },
  ];
  while (stack.length > 0) {
    const { v, path, depth, inArray } = stack.pop()!;
    const where = path === '' ? source : `${source}: ${path}`;
    if (v === null || typeof v === 'string' || typeof v === 'boolean') continue;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new PumerError(code, `${where} is ${v}, not a JSON number`);
      continue;
    }
    if (v === undefined && !inArray) continue;
    if (typeof v !== 'object' || v === undefined)
      throw new PumerError(code, `${where} is ${describeValue(v)}, not a JSON value`);
    if (depth >= MAX_JSON_DEPTH)
      throw new PumerError(code, `${where} nests deeper than ${MAX_JSON_DEPTH} levels (or refers to itself)`);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++)
        stack.push({ v: v[i], path: `${path}[${i}]`, depth: depth + 1, inArray: true });
      continue;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null)
      throw new PumerError(code, `${where} is ${describeValue(v)}, not a JSON object`);
    for (const [k, x] of Object.entries(v as Record<string, unknown>))
      stack.push({ v: x, path: path === '' ? k : `${path}.${k}`, depth: depth + 1, inArray: false });
  }
}
