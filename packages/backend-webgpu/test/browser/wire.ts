import {
  floatTensor,
  intTensor,
  type LayerTrace,
  type Tensor,
  type ViltInputs,
  type ViltOutputs,
} from '@pumer/core';

/** Tensors and model outputs as JSON, to cross between the test process and the page. */

export interface WireTensor {
  readonly dtype: 'float32' | 'int32';
  readonly shape: readonly number[];
  readonly data: number[];
}

export function toWire(t: Tensor): WireTensor {
  return { dtype: t.dtype, shape: [...t.shape], data: Array.from(t.data) };
}

export function fromWireFloat(t: WireTensor) {
  return floatTensor(Float32Array.from(t.data), t.shape);
}

export function fromWireInt(t: WireTensor) {
  return intTensor(Int32Array.from(t.data), t.shape);
}

export interface WireInputs {
  readonly inputIds: WireTensor;
  readonly attentionMask: WireTensor;
  readonly pixelValues: WireTensor;
  readonly pixelMask?: WireTensor;
}

export function inputsToWire(i: ViltInputs): WireInputs {
  return {
    inputIds: toWire(i.inputIds),
    attentionMask: toWire(i.attentionMask),
    pixelValues: toWire(i.pixelValues),
    ...(i.pixelMask ? { pixelMask: toWire(i.pixelMask) } : {}),
  };
}

export function inputsFromWire(i: WireInputs): ViltInputs {
  return {
    inputIds: fromWireInt(i.inputIds),
    attentionMask: fromWireInt(i.attentionMask),
    pixelValues: fromWireFloat(i.pixelValues),
    ...(i.pixelMask ? { pixelMask: fromWireInt(i.pixelMask) } : {}),
  };
}

const INDEX_KEYS = ['keepIdx', 'imageDst', 'textDst', 'tokenDst'] as const;
type WireTrace = Omit<LayerTrace, 'imageSaliency' | (typeof INDEX_KEYS)[number]> &
  Partial<Record<'imageSaliency' | (typeof INDEX_KEYS)[number], WireTensor>>;

export interface WireOutputs {
  readonly logits: WireTensor;
  readonly layers: readonly WireTrace[];
  readonly imagePasses?: readonly (readonly WireTrace[])[];
}

function traceToWire(l: LayerTrace): WireTrace {
  const out: Record<string, unknown> = { ...l };
  for (const k of ['imageSaliency', ...INDEX_KEYS] as const) if (l[k]) out[k] = toWire(l[k]!);
  return out as WireTrace;
}

function traceFromWire(l: WireTrace): LayerTrace {
  const out: Record<string, unknown> = { ...l };
  if (l.imageSaliency) out['imageSaliency'] = fromWireFloat(l.imageSaliency);
  for (const k of INDEX_KEYS) if (l[k]) out[k] = fromWireInt(l[k]!);
  return out as unknown as LayerTrace;
}

export function outputsToWire(o: ViltOutputs): WireOutputs {
  return {
    logits: toWire(o.logits),
    layers: o.layers.map(traceToWire),
    ...(o.imagePasses ? { imagePasses: o.imagePasses.map((p) => p.map(traceToWire)) } : {}),
  };
}

export function outputsFromWire(o: WireOutputs): ViltOutputs {
  return {
    logits: fromWireFloat(o.logits),
    layers: o.layers.map(traceFromWire),
    ...(o.imagePasses ? { imagePasses: o.imagePasses.map((p) => p.map(traceFromWire)) } : {}),
  };
}
