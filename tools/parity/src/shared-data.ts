import * as testkit from '@pumer/testkit/node';

/**
 * Where the runner and `pumer parity` look for the reference data by default: @pumer/testkit's one rule
 * ($PUMER_SHARED, else `shared/` beside the repository root). Typed here so the published types stand alone.
 */
export const SHARED_ENV: string = testkit.SHARED_ENV;

export function findSharedDir(
  options: { readonly from?: string; readonly env?: Readonly<Record<string, string | undefined>> } = {},
): string | null {
  return testkit.findSharedDir(options);
}
