import { PumerError } from '@pumer/core';
import { describe, expect, it } from 'vitest';
import { detectLayout } from './detect.js';

const HF_TENSORS = ['vilt.embeddings.cls_token', 'vilt.encoder.layer.0.attention.attention.query.weight'];
const AUTHORS_TENSORS = ['vilt.transformer.cls_token', 'vilt.transformer.blocks.0.attn.qkv.weight'];

function layoutError(config: unknown, names: string[]): PumerError {
  try {
    detectLayout(config, names, 'weights.bin');
  } catch (err) {
    expect(err).toBeInstanceOf(PumerError);
    return err as PumerError;
  }
  throw new Error('expected a PumerError');
}

describe('detectLayout', () => {
  it('tells the layouts apart by the depth field and the tensor names', () => {
    expect(detectLayout({ model_type: 'vilt', num_hidden_layers: 2 }, HF_TENSORS)).toBe('hf');
    // save_pretrained leaves num_hidden_layers out when it is the default 12: the tensors decide.
    expect(
      detectLayout({ model_type: 'vilt', architectures: ['ViltForQuestionAnswering'] }, HF_TENSORS),
    ).toBe('hf');
    expect(detectLayout({ model_type: 'vilt', num_layers: 4 }, AUTHORS_TENSORS)).toBe('authors');
    expect(detectLayout({ architectures: ['ViltForVisualReasoning'] }, AUTHORS_TENSORS)).toBe('authors');
  });

  it('names what it found when neither layout fits', () => {
    const err = layoutError({ model_type: 'bert', num_hidden_layers: 12 }, [
      'bert.embeddings.word_embeddings.weight',
      'bert.encoder.layer.0.attention.self.query.weight',
    ]);
    expect(err.code).toBe('CHECKPOINT');
    expect(err.message).toContain('weights.bin: not a ViLT checkpoint in a layout read here');
    expect(err.message).toContain('model_type: "bert"');
    expect(err.message).toContain('num_hidden_layers: 12');
    expect(err.message).toContain('"bert.embeddings.*", "bert.encoder.*"');
    expect(err.message).toContain('vilt.embeddings.*');
    expect(err.message).toContain('vilt.transformer.*');
  });

  it('refuses a config.json and weights of different layouts, and weights of both', () => {
    expect(layoutError({ num_layers: 4 }, HF_TENSORS).message).toMatch(
      /disagree on the layout: the tensors are in the Hugging Face layout .*config.json is in the PuMer authors' layout/,
    );
    expect(layoutError({ num_layers: 4 }, [...HF_TENSORS, ...AUTHORS_TENSORS]).code).toBe('CHECKPOINT');
    expect(layoutError([], HF_TENSORS).code).toBe('CONFIG');
  });
});
