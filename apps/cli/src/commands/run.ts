import path from 'node:path';
import type { ReductionConfig } from '@pumer/core';
import { fixed, table } from '../format.js';
import { type CliIO, colorsFor, writeJson } from '../io.js';
import { bundledImages, checkFile, defaultModelDir, loadBackend, loadModel, vilt } from '../loaders.js';
import { describeConfig, resolveSchedule, type ScheduleOverrides } from '../schedules.js';

export const DEFAULT_QUESTION = 'how many circles are there?';

export interface RunCommandOptions extends ScheduleOverrides {
  image?: string;
  question?: string;
  model?: string;
  backend: string;
  schedule?: string;
  topK: number;
  json?: boolean;
}

export interface RunReport {
  question: string;
  image: string;
  model: string;
  backend: { name: string; provider: string; requested?: string; fallbackReason?: string };
  schedule: { name: string; config: ReductionConfig | null };
  answer: string;
  score: number;
  answers: { label: string; score: number; logit: number }[];
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
  const loaded = await loadModel(modelDir);
  const scheduleName = opts.schedule ?? (loaded.reduction ? 'model' : 'unreduced');
  const resolved = resolveSchedule(scheduleName, opts, loaded.config.geometry.numLayers, loaded.reduction);
  const backend = await loadBackend(opts.backend);
  const { createVqaPipeline } = await vilt();
  // 'none' rather than null: the pipeline reads a missing reduction as "the model's own".
  const pipeline = await createVqaPipeline({ model: loaded, backend, reduction: resolved.config ?? 'none' });
  const start = performance.now();
  const result = await pipeline.answer(image, question, { topK: opts.topK, details: true });
  const latencyMs = performance.now() - start;
  const info = backend.info();
  const best = result.answers[0]!;
  return {
    question,
    image,
    model: modelDir,
    backend: {
      name: info.name,
      provider: info.provider,
      ...(info.requested ? { requested: info.requested } : {}),
      ...(info.fallbackReason ? { fallbackReason: info.fallbackReason } : {}),
    },
    schedule: { name: resolved.name, config: resolved.config },
    answer: best.label,
    score: best.score,
    answers: result.answers.map((a) => ({ label: a.label, score: a.score, logit: a.logit })),
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
  io.out(`${c.dim('schedule')} ${r.schedule.name}: ${describeConfig(r.schedule.config)}\n`);
  io.out(
    `${c.dim('backend ')} ${r.backend.name} (${r.backend.provider})   ${c.dim('latency')} ${fixed(r.latencyMs, 1)} ms\n\n`,
  );
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
