import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ResolvedSchedule } from '@pumer/core';
import { type BackendReport, backendLine, backendReport, backendWarning } from '../backend-report.js';
import { CliError } from '../errors.js';
import { fixed } from '../format.js';
import { type CliIO, colorsFor, writeJson } from '../io.js';
import { activateBackend, checkFile, loadModel, modelFileOptions, vilt } from '../loaders.js';
import { createProgress } from '../progress.js';
import { type ScheduleFlags, scheduleFromFlags, scheduleLine } from '../schedule-flags.js';
import { TASK_TITLES } from '../tasks.js';

export interface RetrieveCommandOptions extends ScheduleFlags {
  model: string;
  /** A text file, one text (caption) per line. */
  texts: string;
  /** One folder of PNG/JPEG files, or a list of image files. */
  images: readonly string[];
  /** Matches listed per text and per image. */
  top: number;
  tokenizer?: string;
  /** A registered backend name or `auto` (the default). */
  backend: string;
  /** Pairs per model call. */
  batchSize: number;
  /** Largest image decoded (pixels); absent: the decoder's default. */
  maxPixels?: number;
  json?: boolean;
}

export interface RetrievalMatch {
  /** Index into the other side's list. */
  index: number;
  score: number;
}

export interface RetrieveReport {
  model: string;
  texts: string[];
  images: string[];
  /** `scores[t][i]`: the rank score of text t with image i (higher = better match). */
  scores: number[][];
  /** For each text, its `top` best images, best first. */
  textToImage: RetrievalMatch[][];
  /** For each image, its `top` best texts, best first. */
  imageToText: RetrievalMatch[][];
  top: number;
  /** Indices of the texts cut to the text window. */
  truncated: number[];
  pairs: number;
  seconds: number;
  /** Pairs scored per second (image decoding excluded; each image is prepared once). */
  pairsPerSecond: number;
  schedule: ResolvedSchedule;
  backend: BackendReport;
}

const IMAGE_FILE = /\.(png|jpe?g)$/i;

/** One text per line; a trailing newline ends the last one, an empty line anywhere else is an error. */
export function readTexts(file: string): string[] {
  const lines = readFileSync(checkFile(file, 'texts file'), 'utf8').split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  if (lines.length === 0) throw new CliError(`${file}: no texts (one text per line)`);
  lines.forEach((line, i) => {
    if (line.trim() === '') throw new CliError(`${file}:${i + 1}: empty line (one text per line)`);
  });
  return lines;
}

/** `--images`: one folder (its PNG/JPEG files, sorted by name) or image files, in the order given. */
export function listImages(given: readonly string[], cwd: string): string[] {
  const resolved = given.map((g) => path.resolve(cwd, g));
  if (resolved.length === 1 && statSync(resolved[0]!, { throwIfNoEntry: false })?.isDirectory()) {
    const dir = resolved[0]!;
    const files = readdirSync(dir)
      .filter((f) => IMAGE_FILE.test(f))
      .sort()
      .map((f) => path.join(dir, f))
      .filter((f) => statSync(f).isFile());
    if (files.length === 0) throw new CliError(`no PNG or JPEG files in ${dir}`);
    return files;
  }
  return resolved.map((f) => checkFile(f, 'image'));
}

/** Scores every (text, image) pair with a retrieval checkpoint and ranks them both ways. */
export async function retrieve(opts: RetrieveCommandOptions, io: CliIO): Promise<RetrieveReport> {
  const modelDir = path.resolve(io.cwd, opts.model);
  const texts = readTexts(path.resolve(io.cwd, opts.texts));
  const images = listImages(opts.images, io.cwd);
  const { createPipeline, decodeImageFile } = await vilt();
  const loaded = await loadModel(modelDir, modelFileOptions(io.cwd, opts));
  if (loaded.model.task !== 'retrieval')
    throw new CliError(
      `pumer retrieve needs an image-text retrieval checkpoint; ${modelDir} is ${TASK_TITLES[loaded.model.task]} (${loaded.config.architecture})`,
    );
  // Each image is decoded once (over --max-pixels: refused from its header) and shared by its pairs.
  const pixels = images.map((f) => decodeImageFile(f, { maxPixels: opts.maxPixels }));
  const resolved = scheduleFromFlags(opts, loaded.config.geometry.numLayers, loaded.reduction);
  const active = await activateBackend(opts.backend);
  const pipeline = await createPipeline('retrieval', { model: loaded, reduction: resolved.config });
  const progress = createProgress(io, !opts.json && io.stderrIsTTY, 'retrieve');
  const start = performance.now();
  let ranked: Awaited<ReturnType<typeof pipeline.rank>>;
  try {
    ranked = await pipeline.rank({
      texts,
      images: pixels,
      topK: opts.top,
      batchSize: opts.batchSize,
      onProgress: ({ done, total }) => progress.update(done, total),
    });
  } finally {
    progress.stop();
  }
  const seconds = (performance.now() - start) / 1000;
  const I = ranked.images;
  const pairs = ranked.texts * I;
  const matches = (list: (typeof ranked.textToImage)[number]) =>
    list.map((m) => ({ index: m.index, score: m.score }));
  return {
    model: modelDir,
    texts,
    images,
    scores: texts.map((_, t) => Array.from(ranked.scores.subarray(t * I, (t + 1) * I))),
    textToImage: ranked.textToImage.map(matches),
    imageToText: ranked.imageToText.map(matches),
    top: ranked.textToImage[0]?.length ?? 0,
    truncated: ranked.truncated.flatMap((cut, t) => (cut ? [t] : [])),
    pairs,
    seconds,
    pairsPerSecond: pairs / seconds,
    schedule: resolved,
    backend: backendReport(pipeline.info().backend, active.reason),
  };
}

export async function retrieveCommand(opts: RetrieveCommandOptions, io: CliIO): Promise<void> {
  const r = await retrieve(opts, io);
  io.err(backendWarning(r.backend));
  if (opts.json) {
    writeJson(io, r);
    return;
  }
  const c = colorsFor(io, false);
  const name = (f: string) => path.basename(f);
  io.out(`${c.dim('model   ')} ${r.model}\n`);
  io.out(`${c.dim('schedule')} ${scheduleLine(r.schedule)}\n`);
  io.out(backendLine(r.backend, c));
  io.out(
    `${c.dim('scored  ')} ${r.texts.length} texts × ${r.images.length} images = ${r.pairs} pairs in ${fixed(r.seconds, 2)} s (${c.bold(fixed(r.pairsPerSecond, 1))} pairs/s)\n`,
  );
  io.out(`\n${c.bold(`best ${r.top} images per text`)}\n`);
  r.textToImage.forEach((list, t) => {
    io.out(`${r.texts[t]}${r.truncated.includes(t) ? c.yellow(' (truncated)') : ''}\n`);
    for (const m of list) io.out(`  ${fixed(m.score, 3).padStart(8)}  ${name(r.images[m.index]!)}\n`);
  });
  io.out(`\n${c.bold(`best ${r.top} texts per image`)}\n`);
  r.imageToText.forEach((list, i) => {
    io.out(`${name(r.images[i]!)}\n`);
    for (const m of list) io.out(`  ${fixed(m.score, 3).padStart(8)}  ${r.texts[m.index]}\n`);
  });
}
