import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PumerError } from '@pumer/core';
import { describe, expect, it } from 'vitest';
import { parseViltConfig } from './config.js';
import { defaultModelDir } from './node/assets.js';

const base = JSON.parse(readFileSync(join(defaultModelDir(), 'config.json'), 'utf8')) as Record<
  string,
  unknown
>;

function configError(json: unknown): PumerError {
  try {
    parseViltConfig(json);
  } catch (err) {
    expect(err).toBeInstanceOf(PumerError);
    expect((err as PumerError).code).toBe('CONFIG');
    return err as PumerError;
  }
  throw new Error('expected a PumerError');
}

describe('parseViltConfig', () => {
  it('reads the geometry, labels and PuMer schedule of the bundled checkpoint', () => {
    const c = parseViltConfig(base);
    expect(c.geometry).toEqual({
      hiddenSize: 64,
      numLayers: 6,
      numHeads: 4,
      intermediateSize: 256,
      layerNormEps: 1e-12,
      vocabSize: 31,
      maxTextLength: 16,
      imageSize: 64,
      patchSize: 8,
      numChannels: 3,
      numLabels: 14,
      numImages: 1,
    });
    expect(c.labels.slice(0, 3)).toEqual(['yes', 'no', 'red']);
    expect(c.labels[13]).toBe('4');
    expect(c.reduction).toEqual({
      reduceLayers: [1, 3],
      pruneRatio: 0.1,
      mergeRatio: 0.3,
      textMergeRatio: 0.2,
      saliency: 'first_head',
      mergeStyle: 'tip',
      tomeCount: 0,
    });
    const { pumer: _, ...plain } = base;
    expect(parseViltConfig(plain).reduction).toBeNull();
  });

  it("fills transformers' ViltConfig defaults for the fields save_pretrained leaves out", () => {
    const onlyNonDefault = { architectures: ['ViltForQuestionAnswering'], id2label: { 0: 'yes', 1: 'no' } };
    const c = parseViltConfig(onlyNonDefault);
    expect(c.layout).toBe('hf');
    expect(c.architecture).toBe('ViltForQuestionAnswering');
    expect(c.geometry).toEqual({
      hiddenSize: 768,
      numLayers: 12,
      numHeads: 12,
      intermediateSize: 3072,
      layerNormEps: 1e-12,
      vocabSize: 30522,
      maxTextLength: 40,
      imageSize: 384,
      patchSize: 32,
      numChannels: 3,
      numLabels: 2,
      numImages: 1,
    });
    expect(c.textPositionRows).toBe(40);
    expect([c.typeVocabSize, c.modalityTypeVocabSize, c.qkvBias]).toEqual([2, 2, true]);
  });

  it('requires id2label of a VQA head only', () => {
    const { id2label: _, label2id: __, ...rest } = base;
    expect(configError(rest).message).toContain('"id2label" is missing');
    const retrieval = parseViltConfig({ ...rest, architectures: ['ViltForImageAndTextRetrieval'] });
    expect(retrieval.architecture).toBe('ViltForImageAndTextRetrieval');
    expect(retrieval.task).toBe('retrieval');
    // One output, its score, whatever id2label says.
    expect(retrieval.labels).toEqual(['score']);
    const nlvr2 = parseViltConfig({
      ...rest,
      architectures: ['ViltForImagesAndTextClassification'],
      num_images: 2,
      modality_type_vocab_size: 3,
    });
    expect([nlvr2.task, nlvr2.geometry.numImages, nlvr2.labels]).toEqual(['nlvr2', 2, ['False', 'True']]);
  });

  it('reads the task of each head class, num_images of NLVR2 and pumer_task of a converted VE head', () => {
    const nlvr2 = {
      ...base,
      architectures: ['ViltForImagesAndTextClassification'],
      modality_type_vocab_size: 3,
    };
    expect(configError({ ...nlvr2, num_images: -1 }).message).toMatch(/"num_images" must be 2/);
    expect(configError({ ...nlvr2, num_images: 2, modality_type_vocab_size: 2 }).message).toMatch(
      /"modality_type_vocab_size" \(2\) must be at least 3/,
    );
    expect(parseViltConfig({ ...base, pumer_task: 've' }).task).toBe('ve');
    expect(parseViltConfig(base).task).toBe('vqa');
    expect(configError({ ...base, pumer_task: 'nlvr2' }).message).toMatch(
      /"pumer_task" must be "vqa" or "ve" for a ViltForQuestionAnswering/,
    );
    expect(configError({ ...base, architectures: ['ViltForMaskedLM'] }).message).toMatch(
      /"architectures" names "ViltForMaskedLM", not a ViLT head read here/,
    );
  });

  it('rejects invalid values with the field name', () => {
    expect(configError({ ...base, hidden_size: 64.5 }).message).toMatch(
      /"hidden_size" must be a positive integer/,
    );
    expect(configError({ ...base, num_attention_heads: 5 }).message).toMatch(
      /"num_attention_heads" \(5\) must divide hidden_size/,
    );
    expect(configError({ ...base, patch_size: 7 }).message).toMatch(/"patch_size"/);
    expect(configError({ ...base, layer_norm_eps: 'tiny' }).message).toMatch(/"layer_norm_eps"/);
    expect(configError({ ...base, id2label: { 0: 'a', 2: 'b' } }).message).toMatch(
      /"id2label" keys must be the ids 0..1/,
    );
    expect(configError({ ...base, pumer: { ...(base['pumer'] as object), prune_r: 1.5 } }).message).toMatch(
      /pruneRatio/,
    );
    expect(
      configError({ ...base, pumer: { ...(base['pumer'] as object), reduce_layers: [9] } }).message,
    ).toMatch(/layer 9 is out of range/);
    expect(
      configError({ ...base, pumer: { ...(base['pumer'] as object), attention: 'softmax' } }).message,
    ).toMatch(/pumer.attention/);
    expect(configError({ ...base, architectures: 'ViltForQuestionAnswering' }).message).toMatch(
      /"architectures" must be a list of class names/,
    );
    expect(configError([]).message).toMatch(/expected a JSON object/);
  });

  it('reads hidden_act: the exact erf GELU names run, anything else is refused naming the field', () => {
    expect(parseViltConfig({ ...base, hidden_act: 'gelu' }).geometry.numLayers).toBe(6);
    expect(parseViltConfig({ ...base, hidden_act: 'gelu_python' }).geometry.numLayers).toBe(6);
    const { hidden_act: _, ...absent } = base;
    expect(parseViltConfig(absent).geometry.numLayers).toBe(6);
    for (const act of ['relu', 'gelu_new', 'gelu_pytorch_tanh', 'quick_gelu', 'gelu_10', 'GELU', 123, null]) {
      expect(configError({ ...base, hidden_act: act }).message).toMatch(
        /"hidden_act" must be "gelu" or "gelu_python" \(the exact erf GELU every backend computes\), got /,
      );
    }
  });

  it('refuses schedule ratios of the "pumer" section that are not numbers', () => {
    const pumer = base['pumer'] as Record<string, unknown>;
    for (const field of ['prune_r', 'merge_r', 'merge_text']) {
      for (const bad of ['', '0.3', [0.3], true]) {
        expect(configError({ ...base, pumer: { ...pumer, [field]: bad } }).message).toMatch(
          new RegExp(`"pumer" section: .*${field} must be a number`),
        );
      }
    }
  });

  it('describes values JSON cannot serialise in its errors (a BigInt from a caller-built object)', () => {
    expect(configError({ ...base, hidden_size: 64n }).message).toMatch(
      /"hidden_size" must be a positive integer, got 64n/,
    );
    expect(configError({ ...base, qkv_bias: 1n }).message).toMatch(
      /"qkv_bias" must be true or false, got 1n/,
    );
  });
});
