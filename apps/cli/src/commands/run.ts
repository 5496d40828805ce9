import path from 'node:path';
import type { ResolvedSchedule, ViltTask } from '@pumer/core';
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
import { type LayerTokens, layerTokens, runInputs, TASK_TITLES, TEXT_ROLES } from '../tasks.js';

export const DEFAULT_QUESTION = 'how many circles are there?';

export interface RunCommandOptions extends ScheduleFlags {
  /** The image(s): one, or two for NLVR2 (left, right). */
  image?: string | readonly string[];
  /** The text input of every task: question, hypothesis, statement or caption. */
  text?: string;
  /** VQA's question (the same as --text there). */
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

/** What every task's run reports. */
interface RunReportBase {
  /** The task of the checkpoint's head (which decides the inputs and the answer). */
  task: ViltTask;
  /** The text input: the question, hypothesis, statement or caption. */
  text: string;
  /** The image paths, in input order (NLVR2: left, right). */
  images: string[];
  model: string;
  /** Which backend ran, on what, and why it was the one (`auto`'s pick, or --backend). */
  backend: BackendReport;
  schedule: ResolvedSchedule;
  /** Every output's logit, in the checkpoint's label order (retrieval: the pair's one score). */
  logits: number[];
  /** The checkpoint's labels, in output order (`labels[i]` names `logits[i]`). */
  labels: readonly string[];
  /** Tokens each layer kept (image counts include the image [CLS]); NLVR2: the left image's pass. */
  layers: LayerTokens[];
  truncated: boolean;
  latencyMs: number;
}

/** A class with its softmax probability (VE, NLVR2). */
export interface ClassProbability {
  label: string;
  probability: number;
  logit: number;
}

export interface VqaRunReport extends RunReportBase {
  task: 'vqa';
  question: string;
  image: string;
  answer: string;
  score: number;
  answers: { label: string; score: number; logit: number }[];
}

export interface VeRunReport extends RunReportBase {
  task: 've';
  image: string;
  /** entailment, neutral or contradiction (the checkpoint's label order). */
  label: string;
  probability: number;
  classes: ClassProbability[];
}

export interface Nlvr2RunReport extends RunReportBase {
  task: 'nlvr2';
  /** Whether the statement is true of the pair. */
  value: boolean;
  label: string;
  probability: number;
  classes: ClassProbability[];
  /** Each image's own pass (each is reduced on its own): its path and the tokens each layer kept. */
  passes: { image: string; layers: LayerTokens[] }[];
}

export interface RetrievalRunReport extends RunReportBase {
  task: 'retrieval';
  image: string;
  /** rank_output's logit for the pair: higher = better match. */
  score: number;
}

export type RunReport = VqaRunReport | VeRunReport | Nlvr2RunReport | RetrievalRunReport;

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

const asList = (v: string | readonly string[] | undefined): readonly string[] =>
  v === undefined ? [] : typeof v === 'string' ? [v] : v;

/**
 * Runs the checkpoint on one example of its own task (`loaded.model.task`): VQA answers a question, VE
 * classifies a hypothesis, NLVR2 judges a statement about two images, retrieval scores a caption-image pair.
 */
export async function runModel(opts: RunCommandOptions, io: CliIO): Promise<RunReport> {
  const modelDir = opts.model ? path.resolve(io.cwd, opts.model) : await defaultModelDir();
  const given = asList(opts.image).map((f) => checkFile(path.resolve(io.cwd, f), 'image'));
  const { createPipeline, decodeImageFile } = await vilt();
  // Decoded before the model loads: an image over --max-pixels (or unreadable) fails at once.
  const decoded = given.map((f) => decodeImageFile(f, { maxPixels: opts.maxPixels }));
  const loaded = await loadModel(modelDir, modelFileOptions(io.cwd, opts));
  const task = loaded.model.task;
  const text = runInputs(task, loaded.config.architecture, {
    text: opts.text,
    question: opts.question,
    images: given.length,
    defaultQuestion: DEFAULT_QUESTION,
  });
  const images = given.length > 0 ? [...given] : [await defaultImage(text)];
  const pixels = decoded.length > 0 ? decoded : [decodeImageFile(images[0]!, { maxPixels: opts.maxPixels })];
  const resolved = scheduleFromFlags(opts, loaded.config.geometry.numLayers, loaded.reduction);
  const active = await activateBackend(opts.backend);
  // No backend option: the pipeline runs on the active backend, the one just loaded.
  const options = { model: loaded, reduction: resolved.config };
  const base = (pipelineBackend: Parameters<typeof backendReport>[0]) => ({
    text,
    images,
    model: modelDir,
    backend: backendReport(pipelineBackend, active.reason),
    schedule: resolved,
    labels: loaded.model.labels,
  });
  const start = performance.now();
  const elapsed = () => performance.now() - start;
  switch (task) {
    case 'vqa': {
      const pipeline = await createPipeline('vqa', options);
      const r = await pipeline.answer(pixels[0]!, text, { topK: opts.topK, details: true });
      const latencyMs = elapsed();
      const best = r.answers[0]!;
      return {
        task,
        ...base(pipeline.info().backend),
        question: text,
        image: images[0]!,
        answer: best.label,
        score: best.score,
        answers: r.answers.map((a) => ({ label: a.label, score: a.score, logit: a.logit })),
        logits: Array.from(r.logits),
        layers: layerTokens(r.details),
        truncated: r.truncated,
        latencyMs,
      };
    }
    case 've': {
      const pipeline = await createPipeline('ve', options);
      const r = await pipeline.predict(pixels[0]!, text, { details: true });
      const latencyMs = elapsed();
      return {
        task,
        ...base(pipeline.info().backend),
        image: images[0]!,
        label: r.label,
        probability: r.probability,
        classes: r.classes.map((c) => ({ label: c.label, probability: c.probability, logit: c.logit })),
        logits: Array.from(r.logits),
        layers: layerTokens(r.details),
        truncated: r.truncated,
        latencyMs,
      };
    }
    case 'nlvr2': {
      const pipeline = await createPipeline('nlvr2', options);
      const r = await pipeline.predict([pixels[0]!, pixels[1]!], text, { details: true });
      const latencyMs = elapsed();
      const passes = images.map((image, i) => ({ image, layers: layerTokens(r.details?.images[i]) }));
      return {
        task,
        ...base(pipeline.info().backend),
        value: r.value,
        label: r.label,
        probability: r.probability,
        classes: r.classes.map((c) => ({ label: c.label, probability: c.probability, logit: c.logit })),
        logits: Array.from(r.logits),
        layers: passes[0]!.layers,
        passes,
        truncated: r.truncated,
        latencyMs,
      };
    }
    case 'retrieval': {
      const pipeline = await createPipeline('retrieval', options);
      const r = await pipeline.score(text, pixels[0]!, { details: true });
      const latencyMs = elapsed();
      return {
        task,
        ...base(pipeline.info().backend),
        image: images[0]!,
        score: r.score,
        logits: [r.score],
        layers: layerTokens(r.details),
        truncated: r.truncated,
        latencyMs,
      };
    }
  }
}

/** `pumer run` on a VQA checkpoint (kept for callers of the VQA-only API): the answer to a question. */
export async function answerQuestion(opts: RunCommandOptions, io: CliIO): Promise<VqaRunReport> {
  const r = await runModel(opts, io);
  if (r.task !== 'vqa')
    throw new Error(`answerQuestion answers VQA; this checkpoint is ${TASK_TITLES[r.task]}: use runModel`);
  return r;
}

function layerTable(layers: readonly LayerTokens[]): string {
  return table(
    ['layer', 'kind', 'text in→out', 'image in→out', 'tokens kept'],
    layers.map((l) => [
      String(l.layer),
      l.kind,
      `${l.textIn}→${l.textOut}`,
      `${l.imageIn}→${l.imageOut}`,
      String(l.textOut + l.imageOut),
    ]),
  );
}

export async function runCommand(opts: RunCommandOptions, io: CliIO): Promise<void> {
  const r = await runModel(opts, io);
  io.err(backendWarning(r.backend));
  if (opts.json) {
    writeJson(io, r);
    return;
  }
  const c = colorsFor(io, false);
  const role = TEXT_ROLES[r.task].padEnd(8);
  io.out(`${c.dim(role)} ${r.text}${r.truncated ? c.yellow(' (truncated to the text window)') : ''}\n`);
  if (r.task === 'nlvr2') {
    io.out(`${c.dim('left    ')} ${r.images[0]}\n${c.dim('right   ')} ${r.images[1]}\n`);
  } else {
    io.out(`${c.dim('image   ')} ${r.images[0]}\n`);
  }
  const classes = (list: readonly ClassProbability[]) =>
    table(
      ['class', 'probability', 'logit'],
      list.map((k) => [k.label, fixed(k.probability, 4), fixed(k.logit, 3)]),
    );
  switch (r.task) {
    case 'vqa':
      io.out(
        `${c.bold('answer')}   ${c.green(c.bold(r.answer))}  ${c.dim(`score ${fixed(r.score, 3)}`)}\n\n`,
      );
      io.out(
        table(
          ['answer', 'score', 'logit'],
          r.answers.map((a) => [a.label, fixed(a.score, 4), fixed(a.logit, 3)]),
        ),
      );
      break;
    case 've':
      io.out(
        `${c.bold('label')}    ${c.green(c.bold(r.label))}  ${c.dim(`probability ${fixed(r.probability, 3)}`)}\n\n`,
      );
      io.out(classes(r.classes));
      break;
    case 'nlvr2':
      io.out(
        `${c.bold('answer')}   ${c.green(c.bold(r.value ? 'true' : 'false'))}  ${c.dim(`probability ${fixed(r.probability, 3)}`)}\n\n`,
      );
      io.out(classes(r.classes));
      break;
    case 'retrieval':
      io.out(
        `${c.bold('score')}    ${c.green(c.bold(fixed(r.score, 4)))}  ${c.dim('(higher = better match)')}\n`,
      );
      break;
  }
  io.out('\n');
  io.out(`${c.dim('schedule')} ${scheduleLine(r.schedule)}\n`);
  io.out(backendLine(r.backend, c));
  io.out(`${c.dim('latency ')} ${fixed(r.latencyMs, 1)} ms\n\n`);
  if (r.task === 'nlvr2') {
    r.passes.forEach((p, i) => {
      io.out(`${c.dim(`${i === 0 ? 'left' : 'right'} image pass`)}\n${layerTable(p.layers)}`);
      if (i === 0) io.out('\n');
    });
  } else {
    io.out(layerTable(r.layers));
  }
}
