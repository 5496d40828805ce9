import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { meterModelDir } from '@pumer/testkit/node';
import { describe, expect, it } from 'vitest';
import { thrown } from './testing/thrown.js';
import { isMeterConfig, meterScheduleFromConfig, parseMeterConfig } from './config.js';

const json = (name: string, file: string) =>
  JSON.parse(readFileSync(join(meterModelDir(name as 'tiny-meter-vqa'), file), 'utf8'));
const tinyConfig = json('tiny-meter-vqa', 'config.json') as Record<string, unknown>;
const tinyText = json('tiny-meter-vqa', 'text_config.json') as Record<string, unknown>;

describe('parseMeterConfig', () => {
  it("reads the tiny VQA model's sizes, task and schedule (layer indices -> steps)", () => {
    const c = parseMeterConfig(tinyConfig, tinyText);
    expect(c.task).toBe('vqa');
    expect(c.headPrefix).toBe('vqa_classifier');
    expect(c.geometry).toEqual({
      hiddenSize: 32,
      numHeads: 4,
      intermediateSize: 64,
      numSteps: 2,
      crossLayerNormEps: 1e-12,
      maxTextLength: 16,
      text: {
        numLayers: 2,
        hiddenSize: 32,
        numHeads: 4,
        intermediateSize: 64,
        layerNormEps: 1e-5,
        vocabSize: 64,
        maxPositions: 18,
        padTokenId: 1,
      },
      image: { width: 32, numBlocks: 2, numHeads: 4, patchSize: 16, imageSize: 64, layerNormEps: 1e-5 },
      numLabels: 10,
      numImages: 1,
    });
    // reduce_layers [0, 2, 4, 6] on 2 steps: steps 0 and 1; sim_method "mean_head" and merge_style "tip" are
    // ignored by the authors' METER, which always averages ToMe-style.
    expect(c.reduction).toEqual({
      reduceLayers: [0, 1],
      pruneRatio: 0.2,
      mergeRatio: 0.2,
      textMergeRatio: 0.2,
      saliency: 'mean_head',
      mergeStyle: 'tome',
      tomeCount: 0,
    });
    expect(c.labels).toEqual([]);
    expect(c.tokenizerName).toBe('tiny-roberta');
  });

  it('reads NLVR2 (two images, token_types 3, layer_idx [2, 4, 6] -> step 1) and VE', () => {
    const nlvr2 = parseMeterConfig(json('tiny-meter-nlvr2', 'config.json'), tinyText);
    expect([nlvr2.task, nlvr2.geometry.numImages, nlvr2.tokenTypes, nlvr2.labels]).toEqual([
      'nlvr2',
      2,
      3,
      ['False', 'True'],
    ]);
    expect(nlvr2.reduction?.reduceLayers).toEqual([1]);
    const ve = parseMeterConfig(json('tiny-meter-ve', 'config.json'), tinyText);
    expect([ve.task, ve.geometry.numLabels, ve.labels]).toEqual([
      've',
      3,
      ['contradiction', 'neutral', 'entailment'],
    ]);
  });

  it('defaults to the full-size model: ViT-B/16 (768 wide, 11 blocks, 12 heads), 288 px, 6 steps, roberta-base', () => {
    const c = parseMeterConfig({ model_type: 'meter', architectures: ['MeterForImageAndTextRetrieval'] });
    expect(c.task).toBe('retrieval');
    expect(c.geometry.image).toEqual({
      width: 768,
      numBlocks: 11,
      numHeads: 12,
      patchSize: 16,
      imageSize: 288,
      layerNormEps: 1e-5,
    });
    expect([
      c.geometry.hiddenSize,
      c.geometry.intermediateSize,
      c.geometry.numSteps,
      c.geometry.maxTextLength,
    ]).toEqual([768, 3072, 6, 40]);
    expect(c.geometry.text).toMatchObject({
      numLayers: 12,
      hiddenSize: 768,
      vocabSize: 50265,
      maxPositions: 514,
    });
    expect([c.reduction, c.labels, c.tokenizerName]).toEqual([null, ['score'], 'roberta-base']);
  });

  it('has no schedule when reduce_layers is null, empty, or names no step', () => {
    for (const reduce_layers of [null, [], [1, 3], [4, 6]])
      expect(meterScheduleFromConfig({ ...tinyConfig, reduce_layers }, 2)).toBeNull();
    expect(meterScheduleFromConfig({ ...tinyConfig, reduce_layers: [3, 2] }, 2)?.reduceLayers).toEqual([1]);
  });

  it.each([
    ['a config that is not an object', [], /expected a JSON object/],
    ['another model type', { ...tinyConfig, model_type: 'vilt' }, /"model_type" is "vilt", not "meter"/],
    ['no task class', { ...tinyConfig, architectures: undefined }, /"architectures" is missing/],
    [
      'an unknown class',
      { ...tinyConfig, architectures: ['MeterForPreTraining'] },
      /names "MeterForPreTraining"/,
    ],
    [
      'a string size',
      { ...tinyConfig, hidden_size: '32' },
      /"hidden_size" must be a positive integer, got "32"/,
    ],
    [
      'heads that do not divide the width',
      { ...tinyConfig, num_heads: 5 },
      /"num_heads" \(5\) must divide hidden_size \(32\)/,
    ],
    ['a fractional MLP width', { ...tinyConfig, mlp_ratio: 2.01 }, /"mlp_ratio" \(2.01\) times hidden_size/],
    [
      'a patch that does not divide the image',
      { ...tinyConfig, vit_patch_size: 24 },
      /"vit_patch_size" \(24\) must divide image_size \(64\)/,
    ],
    [
      'ViT heads that do not divide its width',
      { ...tinyConfig, vit_heads: 3 },
      /"vit_heads" \(3\) must divide vit_width/,
    ],
    [
      'a vocabulary the text config disagrees with',
      { ...tinyConfig, vocab_size: 65 },
      /"vocab_size" \(65\) differs from text_config.json/,
    ],
    [
      'a text window past the position table',
      { ...tinyConfig, max_text_len: 17 },
      /"max_text_len" \(17\) needs 19 position rows/,
    ],
    [
      'too few token types for NLVR2',
      { ...tinyConfig, architectures: ['MeterForVisualReasoning'] },
      /"token_types" \(2\) must be at least 3/,
    ],
    [
      'id2label of the wrong length',
      { ...tinyConfig, id2label: { 0: 'a' } },
      /"id2label" has 1 labels, but .* has 10 outputs/,
    ],
    [
      'reduce_layers that are not a list',
      { ...tinyConfig, reduce_layers: 2 },
      /"reduce_layers" must be null or a list/,
    ],
    [
      'a prune ratio of 1',
      { ...tinyConfig, prune_r: 1 },
      /schedule fields: .*pruneRatio must be in \[0, 1\)/,
    ],
    [
      'a string ratio',
      { ...tinyConfig, merge_text: '0.2' },
      /schedule fields: .*merge_text must be a number/,
    ],
    ['a merge count', { ...tinyConfig, merge_r: 4 }, /merge_r must be a ratio below 1 for METER/],
  ])('refuses %s (CONFIG)', (_what, config, message) => {
    const e = thrown(() => parseMeterConfig(config, tinyText));
    expect(e.code).toBe('CONFIG');
    expect(e.message).toMatch(message);
  });

  it.each([
    [
      'a BERT text config',
      { ...tinyText, model_type: 'bert' },
      /text_config.json: field "model_type" is "bert": METER's text encoder is RoBERTa/,
    ],
    ['another activation', { ...tinyText, hidden_act: 'gelu_new' }, /"hidden_act" is "gelu_new"/],
    [
      'a missing-looking size',
      { ...tinyText, num_hidden_layers: 0 },
      /"num_hidden_layers" must be a positive integer, got 0/,
    ],
    ['a negative pad id', { ...tinyText, pad_token_id: -1 }, /"pad_token_id" must be an integer >= 0/],
    ['a zero eps', { ...tinyText, layer_norm_eps: 0 }, /"layer_norm_eps" must be a positive number/],
  ])('refuses a text_config.json with %s (CONFIG)', (_what, text, message) => {
    const e = thrown(() => parseMeterConfig(tinyConfig, text));
    expect(e.code).toBe('CONFIG');
    expect(e.message).toMatch(message);
  });

  it('tells METER configs from others', () => {
    expect(isMeterConfig(tinyConfig)).toBe(true);
    expect(isMeterConfig({ model_type: 'vilt' })).toBe(false);
    expect(isMeterConfig(null)).toBe(false);
  });
});
