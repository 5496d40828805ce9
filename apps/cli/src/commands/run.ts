import path from 'node:path';
import type { ResolvedSchedule, ViltTask } from '@pumer/core';
import type { GraphStartupPhases, PipelineInfo } from '@pumer/vilt';
import { type BackendReport, backendLine, backendWarning } from '../backend-report.js';
import { fixed, table } from '../format.js';
import { type CliIO, colorsFor, writeJson } from '../io.js';
import {
  activateBackend,
  bundledImages,
  checkFile,
  defaultModelDir,
  isMeterDir,
  loadModel,
  modelFileOptions,
  vilt,
} from '../loaders.js';
import { type ScheduleFlags, scheduleFromFlags, scheduleLine } from '../schedule-flags.js';
import { type LayerTokens, layerTokens, runInputs, TASK_TITLES, TEXT_ROLES } from '../tasks.js';
import { runMeterCheckpoint } from './meter-run.js';
import { classificationFields, runReportHead } from './run-report.js';

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
  /** The node backend's graph cache folder, or `off` (sets PUMER_GRAPH_CACHE for this process's backend). */
  graphCache?: string;
  json?: boolean;
}

/** What every task's run reports. */
interface RunReportBase {
  /** The task of the checkpoint's head (which decides the inputs and the answer). */
  task: ViltTask;
  /** 'meter' for a METER checkpoint (then `layers` are its co-attention steps); absent: ViLT. */
  family?: 'meter';
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
  /**
   * The answer's own time: the pipeline call less the one-off hash, graph build, write and session creation (those are
   * in `startup`); it still includes the first run's warm-up.
   */
  latencyMs: number;
  /**
   * What the answer waited for before it could run, phase by phase (docs/benchmark.md, "Start-up"); ViLT's
   * pipelines report it.
   */
  startup?: RunStartup;
}

/** Start-up phases of one `pumer run`, in milliseconds (null: the phase did not happen on this backend). */
export interface RunStartup {
  /** Reading, decoding and checking the checkpoint. */
  readWeightsMs: number | null;
  /** Hashing the weights for the graph's key (the graph cache's and the in-memory one's). */
  hashWeightsMs: number | null;
  /** Building the whole-model graph in code. */
  buildGraphMs: number | null;
  /** Writing it for the runtime (0 on a graph cache hit). */
  writeGraphMs: number | null;
  /** The runtime's session creation. */
  createSessionMs: number | null;
  /** hit | miss | rebuilt | off; null on a backend that compiles no graph (cpu). */
  graphCache: string | null;
  /** The graph's first run. */
  firstRunMs: number | null;
  /** From the process's start to the answer. */
  timeToAnswerMs: number;
  /** The process's peak resident memory so far, MiB. */
  peakRssMiB: number;
}

/** The run's start-up from the pipeline's report, and the answer's own latency (`elapsed` less the one-offs). */
function startupOf(info: PipelineInfo, elapsed: number): { startup: RunStartup; latencyMs: number } {
  const graphs = info.startup?.graphs ?? [];
  const sum = (pick: (g: GraphStartupPhases) => number | null) =>
    graphs.length === 0 ? null : graphs.reduce((s, g) => s + (pick(g) ?? 0), 0);
  const oneOff =
    (sum((g) => g.hashWeightsMs) ?? 0) +
    (sum((g) => g.buildGraphMs) ?? 0) +
    (sum((g) => g.writeGraphMs) ?? 0) +
    (sum((g) => g.createSessionMs) ?? 0);
  return {
    startup: {
      readWeightsMs: info.startup?.readWeightsMs ?? null,
      hashWeightsMs: sum((g) => g.hashWeightsMs),
      buildGraphMs: sum((g) => g.buildGraphMs),
      writeGraphMs: sum((g) => g.writeGraphMs),
      createSessionMs: sum((g) => g.createSessionMs),
      graphCache: graphs.length === 0 ? null : [...new Set(graphs.map((g) => g.graphCache))].join(','),
      firstRunMs: sum((g) => g.firstRunMs),
      timeToAnswerMs: performance.now(),
      peakRssMiB: (process.resourceUsage().maxRSS * 1024) / 2 ** 20,
    },
    latencyMs: Math.max(0, elapsed - oneOff),
  };
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
  if (await isMeterDir(modelDir))
    return runMeterCheckpoint(opts, io, modelDir, { question: DEFAULT_QUESTION, image: defaultImage });
  const given = asList(opts.image).map((f) => checkFile(path.resolve(io.cwd, f), 'image'));
  const { createPipeline, decodeImageFile } = await vilt();
  // Decoded before the model loads: an image over --max-pixels (or unreadable) fails at once.
  const decoded = given.map((f) => decodeImageFile(f, { maxPixels: opts.maxPixels }));
  // The registry's node backend reads its graph cache folder from the environment when it is created, and the
  // loader its checkpoint memo (kept in that folder) when the model loads: set before both.
  if (opts.graphCache !== undefined)
    process.env['PUMER_GRAPH_CACHE'] =
      opts.graphCache === 'off' ? 'off' : path.resolve(io.cwd, opts.graphCache);
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
  // One answer: pre-packing the weights for the matrix kernels costs the node backend more start-up than it
  // saves on a single run (docs/benchmark.md, "Start-up"); PUMER_NODE_PREPACK=1 keeps it.
  process.env['PUMER_NODE_PREPACK'] ??= '0';
  const active = await activateBackend(opts.backend);
  // No backend option: the pipeline runs on the active backend, the one just loaded.
  const options = { model: loaded, reduction: resolved.config };
  const base = runReportHead({
    text,
    images,
    model: modelDir,
    reason: active.reason,
    schedule: resolved,
    labels: loaded.model.labels,
  });
  const start = performance.now();
  const elapsed = () => performance.now() - start;
  switch (task) {
    case 'vqa': {
      const pipeline = await createPipeline('vqa', options);
      const r = await pipeline.answer(pixels[0]!, text, { topK: opts.topK, details: true });
      const timing = startupOf(pipeline.info(), elapsed());
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
        ...timing,
      };
    }
    case 've': {
      const pipeline = await createPipeline('ve', options);
      const r = await pipeline.predict(pixels[0]!, text, { details: true });
      const timing = startupOf(pipeline.info(), elapsed());
      return {
        task,
        ...base(pipeline.info().backend),
        image: images[0]!,
        ...classificationFields(r),
        layers: layerTokens(r.details),
        truncated: r.truncated,
        ...timing,
      };
    }
    case 'nlvr2': {
      const pipeline = await createPipeline('nlvr2', options);
      const r = await pipeline.predict([pixels[0]!, pixels[1]!], text, { details: true });
      const timing = startupOf(pipeline.info(), elapsed());
      const passes = images.map((image, i) => ({ image, layers: layerTokens(r.details?.images[i]) }));
      return {
        task,
        ...base(pipeline.info().backend),
        value: r.value,
        ...classificationFields(r),
        layers: passes[0]!.layers,
        passes,
        truncated: r.truncated,
        ...timing,
      };
    }
    case 'retrieval': {
      const pipeline = await createPipeline('retrieval', options);
      const r = await pipeline.score(text, pixels[0]!, { details: true });
      const timing = startupOf(pipeline.info(), elapsed());
      return {
        task,
        ...base(pipeline.info().backend),
        image: images[0]!,
        score: r.score,
        logits: [r.score],
        layers: layerTokens(r.details),
        truncated: r.truncated,
        ...timing,
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

/** The start-up phases in one line: read, build, write, session (cache outcome), first run, total, peak RSS. */
export function startupLine(s: RunStartup): string {
  const sec = (ms: number | null) => (ms === null ? null : `${fixed(ms / 1000, 2)} s`);
  const parts = [
    ['read weights', sec(s.readWeightsMs)],
    ['hash weights', sec(s.hashWeightsMs)],
    ['build graph', sec(s.buildGraphMs)],
    ['write graph', s.writeGraphMs ? sec(s.writeGraphMs) : null],
    ['create session', sec(s.createSessionMs)],
    ['graph cache', s.graphCache],
    ['first run', sec(s.firstRunMs)],
    ['answer after', sec(s.timeToAnswerMs)],
    ['peak RSS', `${fixed(s.peakRssMiB, 0)} MiB`],
  ].filter((p): p is [string, string] => p[1] !== null);
  return parts.map(([k, v]) => `${k} ${v}`).join(' · ');
}

function layerTable(layers: readonly LayerTokens[], unit = 'layer'): string {
  return table(
    [unit, 'kind', 'text in→out', 'image in→out', 'tokens kept'],
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
  io.out(`${c.dim('schedule')} ${scheduleLine(r.schedule, r.family)}\n`);
  io.out(backendLine(r.backend, c));
  io.out(`${c.dim('latency ')} ${fixed(r.latencyMs, 1)} ms ${c.dim('(this answer, without start-up)')}\n`);
  if (r.startup) io.out(`${c.dim('startup ')} ${startupLine(r.startup)}\n`);
  io.out('\n');
  // METER's rows are its co-attention steps.
  const unit = r.family === 'meter' ? 'step' : 'layer';
  if (r.task === 'nlvr2') {
    r.passes.forEach((p, i) => {
      io.out(`${c.dim(`${i === 0 ? 'left' : 'right'} image pass`)}\n${layerTable(p.layers, unit)}`);
      if (i === 0) io.out('\n');
    });
  } else {
    io.out(layerTable(r.layers, unit));
  }
}
