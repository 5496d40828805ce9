import {
  BackendError,
  type CoAttentionPlan,
  type FloatTensor,
  floatTensor,
  type IntTensor,
  intTensor,
  type LayerPlan,
  type LayerTrace,
} from '@pumer/core';
import type { RuntimeOutputs, RuntimeTensor } from './ort-backend.js';
import type { TraceOutputs } from './standalone.js';

/** Reading a session's outputs back into core's tensors and traces. */

export function readFloat(t: RuntimeTensor | undefined, name: string): FloatTensor {
  if (t?.type !== 'float32') throw new BackendError(`onnxruntime returned no float32 output "${name}"`);
  return floatTensor(t.data as Float32Array, t.dims.map(Number));
}

export function readInt(t: RuntimeTensor | undefined, name: string): IntTensor {
  if (t?.type !== 'int32') throw new BackendError(`onnxruntime returned no int32 output "${name}"`);
  return intTensor(t.data as Int32Array, t.dims.map(Number));
}

/**
 * A layer's (or METER co-attention step's) trace from its plan and the graph outputs carrying it. A METER step
 * whose image passes unchanged has no kept indices or image destinations.
 */
export function layerTrace(
  layer: number,
  plan: LayerPlan | CoAttentionPlan,
  names: TraceOutputs,
  out: RuntimeOutputs,
): LayerTrace {
  const base = {
    layer,
    kind: plan.kind,
    textIn: plan.textIn,
    imageIn: plan.imageIn,
    textOut: plan.textOut,
    imageOut: plan.imageOut,
  } as const;
  if (plan.kind === 'pumer') {
    const { keepIdx, imageDst } = names;
    return {
      ...base,
      imageSaliency: readFloat(out[names.saliency!], names.saliency!),
      ...(keepIdx === undefined ? {} : { keepIdx: readInt(out[keepIdx], keepIdx) }),
      ...(imageDst === undefined ? {} : { imageDst: readInt(out[imageDst], imageDst) }),
      textDst: readInt(out[names.textDst!], names.textDst!),
    };
  }
  if (plan.kind === 'none') return base;
  return { ...base, tokenDst: readInt(out[names.tokenDst!], names.tokenDst!) };
}
