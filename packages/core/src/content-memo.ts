/**
 * A model's remembered content hashes. Hashing a ViLT-B's 357 MB of weights to key its compiled graphs costs a
 * read of every weight; a loader that knows the checkpoint files are unchanged since it last saw them (same
 * path, size, mtime, inode) attaches a memo, so a backend asks it first and tells it what it computed. A model
 * without one is hashed as before.
 */

/** The model property (a symbol: not enumerated, not copied by JSON) that holds its ContentMemo. */
export const CONTENT_MEMO: unique symbol = Symbol.for('@pumer/core/content-memo');

export interface ContentMemo {
  /** The content hash of kind `kind` (a hashing scheme's name and version) remembered for this model, if any. */
  get(kind: string): string | undefined;
  /** Remembers the model's content hash of kind `kind` (e.g. on disk, for the next process). */
  set(kind: string, hash: string): void;
}

/** The content memo `model` carries, or null. */
export function contentMemoOf(model: object): ContentMemo | null {
  const memo = (model as { [CONTENT_MEMO]?: ContentMemo })[CONTENT_MEMO];
  return memo && typeof memo.get === 'function' && typeof memo.set === 'function' ? memo : null;
}
