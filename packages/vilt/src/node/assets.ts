import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot as findPackageRoot } from './package-root.js';

/**
 * The files shipped in the package's `assets/`: the embedded default model (a tiny ViLT fine-tuned with
 * PuMer on ShapesVQA) and a few example images with questions. Found by walking up from this module to
 * the package root, so it works from src/ (tests, tsx), dist/ ESM and dist/ CJS alike.
 */

const packageRoot = (): string => findPackageRoot('@pumer/vilt', import.meta.url);

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
