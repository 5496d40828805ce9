import type { Options } from 'tsup';

/**
 * The build every package shares: ESM and CJS with type declarations and source maps, for Node 20. A package's
 * tsup.config.ts passes its entries and only what differs (`overrides` win, key by key).
 */
export function pumerTsup(entry: string[] | Record<string, string>, overrides: Options = {}): Options {
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    ...overrides,
  };
}
