/** The PumerError code and message `f` throws (the METER tests compare both); fails when `f` throws nothing. */
export function thrown(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (err) {
    return { code: (err as { code: string }).code, message: (err as Error).message };
  }
  throw new Error('expected an error');
}
