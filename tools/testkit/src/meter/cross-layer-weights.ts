import type { BertAttentionWeights, CrossLayerWeights, LayerNormWeights, LinearWeights } from '@pumer/core';
import { PumerError } from '@pumer/core';
import { goldenToFloat } from '../golden/convert.js';
import type { GoldenTensor } from '../golden/format.js';

/**
 * The authors' names of one co-attention layer (`cross_modal_{text,image}_layers.{s}.` + `attention.self.query`
 * …, docs/meter.md, "Parameter names") mapped onto core's CrossLayerWeights, with the layer's LayerNorm eps.
 */
export function crossLayerWeightsFromAuthors(
  weights: Readonly<Record<string, GoldenTensor>>,
  prefix: string,
  eps: number,
): CrossLayerWeights {
  const get = (name: string): GoldenTensor => {
    const t = weights[`${prefix}${name}`];
    if (!t) throw new PumerError('GOLDEN', `weights.${prefix}${name} is missing`);
    return t;
  };
  const lin = (name: string): LinearWeights => ({
    weight: goldenToFloat(get(`${name}.weight`)),
    bias: weights[`${prefix}${name}.bias`] ? goldenToFloat(get(`${name}.bias`)) : null,
  });
  const ln = (name: string): LayerNormWeights => ({
    weight: goldenToFloat(get(`${name}.weight`)),
    bias: goldenToFloat(get(`${name}.bias`)),
    eps,
  });
  const attention = (name: string): BertAttentionWeights => ({
    query: lin(`${name}.self.query`),
    key: lin(`${name}.self.key`),
    value: lin(`${name}.self.value`),
    output: lin(`${name}.output.dense`),
    norm: ln(`${name}.output.LayerNorm`),
  });
  return {
    attention: attention('attention'),
    crossAttention: attention('crossattention'),
    feedForward: {
      intermediate: lin('intermediate.dense'),
      output: lin('output.dense'),
      norm: ln('output.LayerNorm'),
    },
  };
}
