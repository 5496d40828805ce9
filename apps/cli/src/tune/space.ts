import {
  MERGE_STYLES,
  type MergeStyle,
  type ModelGeometry,
  type ReductionConfig,
  SALIENCY_METHODS,
  type Saliency,
  saliencyRule,
  schedule,
  trainingFreeSaliencyRule,
  validateReductionConfig,
} from '@pumer/core';

/**
 * What `pumer tune` searches (docs/tuning.md): a schedule is a *level* (which layers reduce and by how much:
 * the token counts, hence the FLOPs) and a *method* (saliency, merge style, training-free switch: how tokens
 * are chosen and combined at those counts).
 */
export interface TuneSpace {
  /** Reduce-layer sets. */
  readonly layerSets: readonly (readonly number[])[];
  readonly prune: readonly number[];
  readonly merge: readonly number[];
  readonly text: readonly number[];
  readonly saliency: readonly Saliency[];
  readonly styles: readonly MergeStyle[];
  readonly trainingFree: readonly boolean[];
}

export interface TuneMethod {
  readonly saliency: Saliency;
  readonly mergeStyle: MergeStyle;
  readonly trainingFree: boolean;
}

export type TuneLevel = Pick<
  ReductionConfig,
  'reduceLayers' | 'pruneRatio' | 'mergeRatio' | 'textMergeRatio'
>;

/** Every set of one to three layers among the first `numLayers - 1` (the last layer's reduction saves nothing). */
export function layerSubsets(numLayers: number, maxSize = 3): number[][] {
  const out: number[][] = [];
  const pick = (from: number, chosen: number[]) => {
    if (chosen.length > 0) out.push(chosen);
    if (chosen.length === maxSize) return;
    for (let l = from; l < numLayers - 1; l++) pick(l + 1, [...chosen, l]);
  };
  pick(0, []);
  return out;
}

/** The default space for a model of `numLayers` layers. */
export function defaultSpace(numLayers: number): TuneSpace {
  return {
    layerSets: layerSubsets(numLayers),
    prune: [0.1, 0.2, 0.3],
    merge: [0, 0.2, 0.3, 0.4, 0.5],
    text: [0, 0.2],
    saliency: SALIENCY_METHODS,
    styles: MERGE_STYLES,
    trainingFree: [false, true],
  };
}

/**
 * Every method of the space, each graph once: training-free mode reads every head where a saliency reads
 * head 0 (core's trainingFreeSaliencyRule), so there `first_head` runs what `mean_head` runs and is left out
 * when `mean_head` is searched.
 */
export function methodsOf(space: TuneSpace): TuneMethod[] {
  const distinctInTrainingFree = (saliency: Saliency) => {
    const rule = saliencyRule(saliency);
    const effective = trainingFreeSaliencyRule(rule);
    return (
      effective.heads === rule.heads ||
      !space.saliency.some((other) => {
        const o = saliencyRule(other);
        return (
          o.source === effective.source && o.heads === effective.heads && o.textSide === effective.textSide
        );
      })
    );
  };
  return space.trainingFree.flatMap((trainingFree) =>
    space.saliency
      .filter((saliency) => !trainingFree || distinctInTrainingFree(saliency))
      .flatMap((saliency) => space.styles.map((mergeStyle) => ({ saliency, mergeStyle, trainingFree }))),
  );
}

export function levelsOf(space: TuneSpace): TuneLevel[] {
  return space.layerSets.flatMap((reduceLayers) =>
    space.prune.flatMap((pruneRatio) =>
      space.merge.flatMap((mergeRatio) =>
        space.text.map((textMergeRatio) => ({ reduceLayers, pruneRatio, mergeRatio, textMergeRatio })),
      ),
    ),
  );
}

/** A level run with a method, validated for the model's depth. */
export function candidateConfig(level: TuneLevel, method: TuneMethod, numLayers: number): ReductionConfig {
  return validateReductionConfig(
    {
      ...level,
      saliency: method.saliency,
      mergeStyle: method.mergeStyle,
      ...(method.trainingFree ? { trainingFree: true } : {}),
    },
    numLayers,
  );
}

/** The scheduler's FLOPs speed-up of a schedule: known before anything runs. */
export function predictedSpeedup(geometry: ModelGeometry, config: ReductionConfig | null): number {
  return schedule(geometry, config).idealSpeedup;
}

/** Stable identity of a schedule, to cache what was measured. */
export function configKey(config: ReductionConfig | null): string {
  if (!config) return 'unreduced';
  const tf = config.trainingFree ? ' tf' : '';
  return `L${config.reduceLayers.join('.')} p${config.pruneRatio} m${config.mergeRatio} t${config.textMergeRatio} ${config.saliency}/${config.mergeStyle}${tf}`;
}
