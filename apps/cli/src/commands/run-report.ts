import { backendReport } from '../backend-report.js';
import type { ClassProbability, RunReport } from './run.js';

/** The parts of a `pumer run` report that ViLT (commands/run.ts) and METER (commands/meter-run.ts) make alike. */

type RunReportHead = Pick<RunReport, 'text' | 'images' | 'model' | 'backend' | 'schedule' | 'labels'>;

/**
 * The report fields a run's setup decides, given the backend the pipeline ran on; `reason` says why that
 * backend was picked.
 */
export function runReportHead(
  setup: Omit<RunReportHead, 'backend'> & { readonly reason: string },
): (pipelineBackend: Parameters<typeof backendReport>[0]) => RunReportHead {
  return (pipelineBackend) => ({
    text: setup.text,
    images: setup.images,
    model: setup.model,
    backend: backendReport(pipelineBackend, setup.reason),
    schedule: setup.schedule,
    labels: setup.labels,
  });
}

/** The classes of a VE or NLVR2 result as the report lists them. */
export function classProbabilities(classes: readonly ClassProbability[]): ClassProbability[] {
  return classes.map((c) => ({ label: c.label, probability: c.probability, logit: c.logit }));
}

/** The report fields of a VE or NLVR2 classification: the winning label, its probability, every class, the logits. */
export function classificationFields(r: {
  readonly label: string;
  readonly probability: number;
  readonly classes: readonly ClassProbability[];
  readonly logits: ArrayLike<number>;
}): { label: string; probability: number; classes: ClassProbability[]; logits: number[] } {
  return {
    label: r.label,
    probability: r.probability,
    classes: classProbabilities(r.classes),
    logits: Array.from(r.logits),
  };
}
