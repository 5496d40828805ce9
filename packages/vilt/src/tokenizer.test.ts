import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PumerError } from '@pumer/core';
import { describe, expect, it } from 'vitest';
import { defaultModelDir } from './node/assets.js';
import { ViltTokenizer } from './tokenizer.js';

const json = JSON.parse(readFileSync(join(defaultModelDir(), 'tokenizer.json'), 'utf8'));
const tok = new ViltTokenizer(json, 16);

describe('ViltTokenizer', () => {
  it('lower-cases, WordPiece-splits, frames with [CLS]/[SEP] and pads to the window', () => {
    const e = tok.encode('How many CIRCLES are there?');
    expect(e.inputIds).toEqual([2, 15, 17, 12, 9, 26, 5, 3, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(e.attentionMask).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(e.truncated).toBe(false);
    expect(tok.tokenize('what shape is the zebra?')).toEqual(['what', 'shape', 'is', 'the', '[UNK]', '?']);
  });

  it('truncates a question longer than the window, keeping [CLS] and [SEP] inside it', () => {
    const long = 'is there a red circle and a blue square and a green triangle and a yellow square and more?';
    const e = tok.encode(long);
    expect(e.truncated).toBe(true);
    expect(e.inputIds).toHaveLength(16);
    expect(e.inputIds[0]).toBe(tok.clsId);
    expect(e.inputIds[15]).toBe(tok.sepId);
    expect(e.attentionMask.every((m) => m === 1)).toBe(true);
    // The kept pieces are the question's first 14.
    const pieces = tok.tokenize(long).slice(0, 14);
    expect(e.inputIds.slice(1, 15)).toEqual(pieces.map((p) => json.model.vocab[p]));
  });

  it('encodes a batch into [B, window] int tensors', () => {
    const b = tok.encodeBatch(['is there a red square?', '']);
    expect(b.inputIds.shape).toEqual([2, 16]);
    expect(Array.from(b.inputIds.data.subarray(16, 19))).toEqual([2, 3, 0]);
    expect(Array.from(b.attentionMask.data.subarray(16, 19))).toEqual([1, 1, 0]);
  });

  it('rejects what it cannot use with a TOKENIZER error', () => {
    const err = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(PumerError);
        return (e as PumerError).code;
      }
      return 'no error';
    };
    expect(err(() => new ViltTokenizer(null, 16))).toBe('TOKENIZER');
    expect(err(() => new ViltTokenizer({ version: '1.0' }, 16))).toBe('TOKENIZER');
    expect(err(() => new ViltTokenizer(json, 1))).toBe('TOKENIZER');
    expect(err(() => tok.encode(42 as unknown as string))).toBe('TOKENIZER');
  });

  describe('checks tokenizer.json before the tokenizers library runs it', () => {
    const model = json.model as Record<string, unknown>;
    const vocab = model['vocab'] as Record<string, number>;
    const withModel = (changes: Record<string, unknown>) => ({ ...json, model: { ...model, ...changes } });
    function tokenizerError(bad: unknown): string {
      try {
        new ViltTokenizer(bad, 16);
      } catch (e) {
        expect(e).toBeInstanceOf(PumerError);
        expect((e as PumerError).code).toBe('TOKENIZER');
        return (e as PumerError).message;
      }
      throw new Error('expected a TOKENIZER error');
    }

    it.each([
      ['an unknown model type', withModel({ type: 'Nonsense' }), /"model.type" is "Nonsense": .*"WordPiece"/],
      ['another model type', withModel({ type: 'BPE' }), /"model.type" is "BPE"/],
      ['no model type', withModel({ type: undefined }), /"model.type" is undefined/],
      ['an empty vocabulary', withModel({ vocab: {} }), /"model.vocab" is empty/],
      ['no vocabulary', withModel({ vocab: undefined }), /"model.vocab" must be an object/],
      [
        'a fractional id',
        withModel({ vocab: { ...vocab, what: 1.5 } }),
        /gives "what" the id 1.5, not an integer/,
      ],
      [
        'a string id',
        withModel({ vocab: { ...vocab, what: '7' } }),
        /gives "what" the id "7", not an integer/,
      ],
      ['a negative id', withModel({ vocab: { ...vocab, what: -1 } }), /gives "what" the id -1/],
      [
        'a duplicate id',
        withModel({ vocab: { ...vocab, what: 2 } }),
        /gives the id 2 to both "\[CLS\]" and "what"/,
      ],
      ['an unknown unk_token', withModel({ unk_token: '<unk>' }), /"model.unk_token" must name a token/],
      [
        'a non-string prefix',
        withModel({ continuing_subword_prefix: 2 }),
        /"model.continuing_subword_prefix"/,
      ],
      ['added tokens that are not a list', { ...json, added_tokens: {} }, /"added_tokens" must be a list/],
      [
        'an added token without an id',
        { ...json, added_tokens: [{ content: 'x' }] },
        /"added_tokens\[0\].id"/,
      ],
      [
        'an added token clashing with the vocabulary',
        { ...json, added_tokens: [{ id: 2, content: '[MASK]' }] },
        /"added_tokens\[0\]" gives "\[MASK\]" the id 2, which clashes with "\[CLS\]"/,
      ],
      [
        'a normalizer that is not an object',
        { ...json, normalizer: 'bert' },
        /"normalizer" must be null or an object/,
      ],
      [
        'a normalizer the library does not know',
        { ...json, normalizer: { type: 'Nope' } },
        /the normalizer \(Nope\) or pre_tokenizer \(BertPreTokenizer\) is not one the tokenizers library can run/,
      ],
      ['a [PAD] id outside the vocabulary', { ...json, padding: { pad_id: 99 } }, /"padding.pad_id" is 99/],
    ])('refuses %s', (_what, bad, message) => {
      expect(tokenizerError(bad)).toMatch(message);
    });

    it('fills what the Rust library writes but may be left out, and frames questions itself', () => {
      const { added_tokens: _, post_processor: __, decoder: ___, ...bare } = json;
      const { continuing_subword_prefix: ____, ...noPrefix } = model;
      const t = new ViltTokenizer({ ...bare, model: noPrefix }, 16);
      expect(t.encode('How many CIRCLES are there?')).toEqual(tok.encode('How many CIRCLES are there?'));
      expect(t.maxId).toBe(Math.max(...Object.values(vocab)));
    });
  });
});
