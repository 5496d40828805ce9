import path from 'node:path';
import type { ResolvedSchedule } from '@pumer/core';
import { type BackendReport, backendLine, backendReport, backendWarning } from '../backend-report.js';
import { fixed, table } from '../format.js';
import { type CliIO, colorsFor, writeJson } from '../io.js';
import {
  activateBackend,
  bundledImages,
  checkFile,
  defaultModelDir,
  loadModel,
  modelFileOptions,
  vilt,
} from '../loaders.js';
import { type ScheduleFlags, scheduleFromFlags, scheduleLine } from '../schedule-flags.js';

export const DEFAULT_QUESTION = 'how many circles are there?';

export interface RunCommandOptions extends ScheduleFlags {
  image?: string;
  question?: string;
  model?: string;
  /** A JSON label list (index -> answer) replacing the checkpoint's labels (the authors' VQA answers). */
  labels?: string;
  /** tokenizer.json or a folder holding one (the authors' checkpoints ship none). */
  tokenizer?: string;
  /** A registered backend name or `auto` (the default). */
  backend: string;
  topK: number;
  /** Largest image decoded (pixels); absent: the decoder's default. */
  maxPixels?: number;
  json?: boolean;
}

export interface RunReport {
  question: string;
  image: string;
  model: string;
  /** Which backend ran, on what, and why it was the one (`auto`'s pick, or --backend). */
  backend: BackendReport;
  schedule: ResolvedSchedule;
  answer: string;
  score: number;
  answers: { label: string; score: number; logit: number }[];
  /** Every output's logit, in the checkpoint's label order. */
  logits: number[];
  /** The checkpoint's labels, in output order (`labels[i]` names `logits[i]`). */
  labels: readonly string[];
  /** Tokens each layer kept (image counts include the image [CLS]). */
  layers: {
    layer: number;
    kind: string;
    textIn: number;
    imageIn: number;
    textOut: number;
    imageOut: number;
  }[];
  truncated: boolean;
  latencyMs: number;
}

/** Picks the bundled image made for the question if there is one, else the first. */
async function defaultImage(question: string): Promise<string> {
  const images = await bundledImages();
  const match =
    images.find((i) => i.question === question) ??
    images.find((i) => i.question === DEFAULT_QUESTION) ??
    images[0];
  if (!match) throw new Error('the @pumer/vilt package ships no bundled images');
  return match.path;
}

export async function answerQuestion(opts: RunCommandOptions, io: CliIO): Promise<RunReport> {
  const question = opts.question ?? DEFAULT_QUESTION;
  const modelDir = opts.model ? path.resolve(io.cwd, opts.model) : await defaultModelDir();
  const image = opts.image
    ? checkFile(path.resolve(io.cwd, opts.image), 'image')
    : await defaultImage(question);
  const { createVqaPipeline, decodeImageFile } = await vilt();
  // Decoded before the model loads: an image over --max-pixels (or unreadable) fails at once.
  const pixels = decodeImageFile(image, { maxPixels: opts.maxPixels });
  const loaded = await loadModel(modelDir, modelFileOptions(io.cwd, opts));
  const resolved = scheduleFromFlags(opts, loaded.config.geometry.numLayers, loaded.reduction);
  const active = await activateBackend(opts.backend);
  // No backend option: the pipeline runs on the active backend, the one just loaded.
  const pipeline = await createVqaPipeline({ model: loaded, reduction: resolved.config });
  const start = performance.now();
  const result = await pipeline.answer(pixels, question, { topK: opts.topK, details: true });
  const latencyMs = performance.now() - start;
  const info = pipeline.info().backend;
  const best = result.answers[0]!;
  return {
    question,
    image,
    model: modelDir,
    backend: backendReport(info, active.reason),
    schedule: resolved,
    answer: best.label,
    score: best.score,
    answers: result.answers.map((a) => ({ label: a.label, score: a.score, logit: a.logit })),
    logits: Array.from(result.logits),
    labels: loaded.model.labels,
    layers: (result.details?.layers ?? []).map((l) => ({
      layer: l.layer,
      kind: l.kind,
      textIn: l.textIn,
      imageIn: l.imageIn,
      textOut: l.textOut,
      imageOut: l.imageOut,
    })),
    truncated: result.truncated,
    latencyMs,
  };
}

export async function runCommand(opts: RunCommandOptions, io: CliIO): Promise<void> {
  const r = await answerQuestion(opts, io);
  io.err(backendWarning(r.backend));
  if (opts.json) {
    writeJson(io, r);
    return;
  }
  const c = colorsFor(io, false);
  io.out(
    `${c.dim('question')} ${r.question}${r.truncated ? c.yellow(' (truncated to the text window)') : ''}\n`,
  );
  io.out(`${c.dim('image   ')} ${r.image}\n`);
  io.out(`${c.bold('answer')}   ${c.green(c.bold(r.answer))}  ${c.dim(`score ${fixed(r.score, 3)}`)}\n\n`);
  io.out(
    table(
      ['answer', 'score', 'logit'],
      r.answers.map((a) => [a.label, fixed(a.score, 4), fixed(a.logit, 3)]),
    ),
  );
  io.out('\n');
  io.out(`${c.dim('schedule')} ${scheduleLine(r.schedule)}\n`);
  io.out(backendLine(r.backend, c));
  io.out(`${c.dim('latency ')} ${fixed(r.latencyMs, 1)} ms\n\n`);
  io.out(
    table(
      ['layer', 'kind', 'text in→out', 'image in→out', 'tokens kept'],
      r.layers.map((l) => [
        String(l.layer),
        l.kind,
        `${l.textIn}→${l.textOut}`,
        `${l.imageIn}→${l.imageOut}`,
        String(l.textOut + l.imageOut),
      ]),
    ),
  );
}
