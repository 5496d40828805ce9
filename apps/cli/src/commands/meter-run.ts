import path from 'node:path';
import type { MeterDetails } from '@pumer/meter';
import type { CliIO } from '../io.js';
import { activateBackend, checkFile, loadMeterModel, modelFileOptions, vilt } from '../loaders.js';
import { scheduleFromFlags } from '../schedule-flags.js';
import { type LayerTokens, runInputs } from '../tasks.js';
import type { RunCommandOptions, RunReport } from './run.js';
import { classificationFields, runReportHead } from './run-report.js';

/**
 * `pumer run` on a METER checkpoint: the same inputs (`--text`, `--image`, two for NLVR2, `--tokenizer`,
 * `--labels`) and the same report as for ViLT, from @pumer/meter's pipelines; the per-layer rows are METER's
 * co-attention steps (what each step's text layer kept) and the schedule resolves over the steps.
 */

/** One pass's step counts as the report's rows (`layer` = the co-attention step). */
function stepRows(details: MeterDetails | undefined, pass: number): LayerTokens[] {
  return (details?.passes[pass] ?? []).map((s) => ({
    layer: s.step,
    kind: s.kind,
    textIn: s.textIn,
    imageIn: s.imageIn,
    textOut: s.textOut,
    imageOut: s.imageOut,
  }));
}

const asList = (v: string | readonly string[] | undefined): readonly string[] =>
  v === undefined ? [] : typeof v === 'string' ? [v] : v;

export async function runMeterCheckpoint(
  opts: RunCommandOptions,
  io: CliIO,
  modelDir: string,
  defaults: { readonly question: string; readonly image: (text: string) => Promise<string> },
): Promise<RunReport> {
  const given = asList(opts.image).map((f) => checkFile(path.resolve(io.cwd, f), 'image'));
  const { decodeImageFile } = await vilt();
  // Decoded before the model loads: an image over --max-pixels (or unreadable) fails at once.
  const decoded = given.map((f) => decodeImageFile(f, { maxPixels: opts.maxPixels }));
  const loaded = await loadMeterModel(modelDir, modelFileOptions(io.cwd, opts));
  const { createMeterPipeline } = await import('@pumer/meter/node');
  const task = loaded.model.task;
  const text = runInputs(task, loaded.config.architecture, {
    text: opts.text,
    question: opts.question,
    images: given.length,
    defaultQuestion: defaults.question,
  });
  const images = given.length > 0 ? [...given] : [await defaults.image(text)];
  const pixels = decoded.length > 0 ? decoded : [decodeImageFile(images[0]!, { maxPixels: opts.maxPixels })];
  const resolved = scheduleFromFlags(opts, loaded.model.geometry.numSteps, loaded.reduction, 'meter');
  const active = await activateBackend(opts.backend);
  // No backend option: the pipeline runs on the active backend, the one just loaded.
  const options = { reduction: resolved.config };
  const head = runReportHead({
    text,
    images,
    model: modelDir,
    reason: active.reason,
    schedule: resolved,
    labels: loaded.model.labels,
  });
  const base = (pipelineBackend: Parameters<typeof head>[0]) => ({
    family: 'meter' as const,
    ...head(pipelineBackend),
  });
  const start = performance.now();
  const elapsed = () => performance.now() - start;
  switch (task) {
    case 'vqa': {
      const pipeline = await createMeterPipeline(loaded, { ...options, task });
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
        layers: stepRows(r.details, 0),
        truncated: r.truncated,
        latencyMs,
      };
    }
    case 've': {
      const pipeline = await createMeterPipeline(loaded, { ...options, task });
      const r = await pipeline.predict(pixels[0]!, text, { details: true });
      const latencyMs = elapsed();
      return {
        task,
        ...base(pipeline.info().backend),
        image: images[0]!,
        ...classificationFields(r),
        layers: stepRows(r.details, 0),
        truncated: r.truncated,
        latencyMs,
      };
    }
    case 'nlvr2': {
      const pipeline = await createMeterPipeline(loaded, { ...options, task });
      const r = await pipeline.predict([pixels[0]!, pixels[1]!], text, { details: true });
      const latencyMs = elapsed();
      const passes = images.map((image, i) => ({ image, layers: stepRows(r.details, i) }));
      return {
        task,
        ...base(pipeline.info().backend),
        value: r.value,
        ...classificationFields(r),
        layers: passes[0]!.layers,
        passes,
        truncated: r.truncated,
        latencyMs,
      };
    }
    case 'retrieval': {
      const pipeline = await createMeterPipeline(loaded, { ...options, task });
      const r = await pipeline.score(text, pixels[0]!, { details: true });
      const latencyMs = elapsed();
      return {
        task,
        ...base(pipeline.info().backend),
        image: images[0]!,
        score: r.score,
        logits: [r.score],
        layers: stepRows(r.details, 0),
        truncated: r.truncated,
        latencyMs,
      };
    }
  }
}
