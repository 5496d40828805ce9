import { type MeterGeometry, seededRandom, type ViltTask } from '@pumer/core';
import { taskImages } from './synthetic.js';

/**
 * A METER checkpoint with deterministic random weights for a geometry, in the safetensors layout `pumer
 * convert` writes (the authors' config.json and text_config.json, their parameter names), so the benchmark
 * loads it through @pumer/meter's own loader like a real model. Weights are meaningless; shapes are exact.
 */

interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

/** The authors' task class of each task's checkpoint, and where its head is. */
const TASK_CLASSES: Readonly<Record<ViltTask, { architecture: string; head: string }>> = {
  vqa: { architecture: 'MeterForQuestionAnswering', head: 'vqa_classifier' },
  ve: { architecture: 'MeterForVisualEntailment', head: 've_classifier' },
  nlvr2: { architecture: 'MeterForVisualReasoning', head: 'nlvr2_classifier' },
  retrieval: { architecture: 'MeterForImageAndTextRetrieval', head: 'rank_output' },
};

/** The head's outputs: VE's three classes, NLVR2's two, retrieval's one score, the geometry's VQA answers. */
function taskOutputs(g: MeterGeometry, task: ViltTask): number {
  return task === 've' ? 3 : task === 'nlvr2' ? 2 : task === 'retrieval' ? 1 : g.numLabels;
}

/**
 * config.json as the authors' MeterConfig writes it, with the ViT sizes as the extra keys our loader reads and
 * the bundled test tokenizer (the benchmark feeds token ids directly; the loader wants a tokenizer whose ids fit
 * the vocabulary and whose padding is RoBERTa's id 1).
 */
export function syntheticMeterConfig(g: MeterGeometry, task: ViltTask = 'vqa'): Record<string, unknown> {
  return {
    architectures: [TASK_CLASSES[task].architecture],
    model_type: 'meter',
    hidden_size: g.hiddenSize,
    num_heads: g.numHeads,
    mlp_ratio: g.intermediateSize / g.hiddenSize,
    num_top_layer: g.numSteps,
    max_text_len: g.maxTextLength,
    vocab_size: g.text.vocabSize,
    token_types: taskImages(task) + 1,
    vqa_label_size: g.numLabels,
    image_size: g.image.imageSize,
    vit_patch_size: g.image.patchSize,
    vit_width: g.image.width,
    vit_num_blocks: g.image.numBlocks,
    vit_heads: g.image.numHeads,
    tokenizer: 'tiny-roberta',
    reduce_layers: null,
  };
}

/** text_config.json: the RoBERTa the text encoder is built from. */
export function syntheticTextConfig(g: MeterGeometry): Record<string, unknown> {
  const t = g.text;
  return {
    model_type: 'roberta',
    hidden_size: t.hiddenSize,
    num_hidden_layers: t.numLayers,
    num_attention_heads: t.numHeads,
    intermediate_size: t.intermediateSize,
    layer_norm_eps: t.layerNormEps,
    max_position_embeddings: t.maxPositions,
    vocab_size: t.vocabSize,
    type_vocab_size: 1,
    pad_token_id: t.padTokenId,
    hidden_act: 'gelu',
  };
}

/**
 * Every parameter of the geometry's METER under the authors' names, filled from a seeded generator (uniform
 * with std 0.02, LayerNorms 1 / 0).
 */
export function syntheticMeterTensors(
  g: MeterGeometry,
  seed: number,
  task: ViltTask = 'vqa',
): Map<string, NamedTensor> {
  const rand = seededRandom(seed);
  const amp = 0.02 * Math.sqrt(3); // uniform in [-amp, amp] has std 0.02
  const t = new Map<string, NamedTensor>();
  const random = (name: string, shape: number[]) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = (2 * rand() - 1) * amp;
    t.set(name, { shape, data });
  };
  const fill = (name: string, n: number, v: number) =>
    t.set(name, { shape: [n], data: new Float32Array(n).fill(v) });
  const linear = (prefix: string, out: number, inDim: number) => {
    random(`${prefix}.weight`, [out, inDim]);
    random(`${prefix}.bias`, [out]);
  };
  const norm = (prefix: string, n: number) => {
    fill(`${prefix}.weight`, n, 1);
    fill(`${prefix}.bias`, n, 0);
  };
  const attention = (prefix: string, d: number) => {
    for (const p of ['query', 'key', 'value']) linear(`${prefix}.self.${p}`, d, d);
    linear(`${prefix}.output.dense`, d, d);
    norm(`${prefix}.output.LayerNorm`, d);
  };
  const feedForward = (prefix: string, d: number, f: number) => {
    linear(`${prefix}.intermediate.dense`, f, d);
    linear(`${prefix}.output.dense`, d, f);
    norm(`${prefix}.output.LayerNorm`, d);
  };

  const tx = g.text;
  const te = 'meter.text_transformer';
  random(`${te}.embeddings.word_embeddings.weight`, [tx.vocabSize, tx.hiddenSize]);
  random(`${te}.embeddings.position_embeddings.weight`, [tx.maxPositions, tx.hiddenSize]);
  random(`${te}.embeddings.token_type_embeddings.weight`, [1, tx.hiddenSize]);
  norm(`${te}.embeddings.LayerNorm`, tx.hiddenSize);
  for (let l = 0; l < tx.numLayers; l++) {
    attention(`${te}.encoder.layer.${l}.attention`, tx.hiddenSize);
    feedForward(`${te}.encoder.layer.${l}`, tx.hiddenSize, tx.intermediateSize);
  }

  const im = g.image;
  const w = im.width;
  const v = 'meter.vit_model';
  const grid = im.imageSize / im.patchSize;
  random(`${v}.class_embedding`, [w]);
  random(`${v}.positional_embedding`, [grid * grid + 1, w]);
  random(`${v}.conv1.weight`, [w, 3, im.patchSize, im.patchSize]);
  norm(`${v}.ln_pre`, w);
  for (let i = 0; i < im.numBlocks; i++) {
    const p = `${v}.transformer.resblocks.${i}`;
    random(`${p}.attn.in_proj_weight`, [3 * w, w]);
    random(`${p}.attn.in_proj_bias`, [3 * w]);
    linear(`${p}.attn.out_proj`, w, w);
    norm(`${p}.ln_1`, w);
    linear(`${p}.mlp.c_fc`, 4 * w, w);
    linear(`${p}.mlp.c_proj`, w, 4 * w);
    norm(`${p}.ln_2`, w);
  }
  norm(`${v}.ln_post`, w);

  const d = g.hiddenSize;
  linear('meter.cross_modal_text_transform', d, tx.hiddenSize);
  linear('meter.cross_modal_image_transform', d, w);
  random('meter.token_type_embeddings.weight', [taskImages(task) + 1, d]);
  for (let s = 0; s < g.numSteps; s++) {
    for (const stream of ['text', 'image']) {
      const p = `meter.cross_modal_${stream}_layers.${s}`;
      attention(`${p}.attention`, d);
      attention(`${p}.crossattention`, d);
      feedForward(p, d, g.intermediateSize);
    }
  }
  linear('meter.cross_modal_text_pooler.dense', d, d);
  linear('meter.cross_modal_image_pooler.dense', d, d);

  const head = TASK_CLASSES[task].head;
  if (task === 'retrieval') {
    linear(head, 1, 2 * d);
    return t;
  }
  linear(`${head}.0`, 2 * d, 2 * d * taskImages(task));
  norm(`${head}.1`, 2 * d);
  linear(`${head}.3`, taskOutputs(g, task), 2 * d);
  return t;
}
