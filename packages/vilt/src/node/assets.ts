import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PumerError } from '@pumer/core';

/**
 * The files shipped in the package's `assets/`: the embedded default model (a tiny ViLT fine-tuned with
 * PuMer on ShapesVQA) and a few example images with questions. Found by walking up from this module to
 * the package root, so it works from src/ (tests, tsx), dist/ ESM and dist/ CJS alike.
 */

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === '@pumer/vilt')
          return dir;
      } catch {
        // not our manifest: keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new PumerError('CHECKPOINT', 'cannot find the @pumer/vilt package root (and its assets/)');
    dir = parent;
  }
}

/** Directory of the bundled default checkpoint (tiny-vilt-shapes-pumer). */
export function defaultModelDir(): string {
  return join(packageRoot(), 'assets', 'tiny-vilt-shapes-pumer');
}

export interface BundledImage {
  /** Absolute path of the PNG. */
  readonly path: string;
  readonly question: string;
  /** The ground-truth answer. */
  readonly answer: string;
}

/** The bundled example images, each with a question and its answer. */
export function bundledImages(): BundledImage[] {
  const dir = join(packageRoot(), 'assets', 'images');
  const list = JSON.parse(readFileSync(join(dir, 'questions.json'), 'utf8')) as {
    image: string;
    question: string;
    answer: string;
  }[];
  return list.map((q) => ({ path: join(dir, q.image), question: q.question, answer: q.answer }));
}
