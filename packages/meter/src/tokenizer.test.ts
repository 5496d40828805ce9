import { readFileSync } from 'node:fs';
import { byteLevelAlphabet } from '@pumer/vilt';
import { describe, expect, it } from 'vitest';
import { thrown } from './testing/thrown.js';
import { MeterTokenizer } from './tokenizer.js';

const tiny = JSON.parse(
  readFileSync(new URL('../assets/tiny-roberta/tokenizer.json', import.meta.url), 'utf8'),
) as Record<string, unknown> & { model: Record<string, unknown> };

const withModel = (model: Record<string, unknown>) => ({ ...tiny, model: { ...tiny.model, ...model } });

describe('MeterTokenizer (RoBERTa byte-level BPE)', () => {
  const tok = new MeterTokenizer(tiny, 10);

  it('frames <s> text </s>, pads with <pad> (id 1) to the window and masks the padding', () => {
    expect(tok.tokenize('what color is the red circle?')).toEqual([
      'what',
      'Ġcolor',
      'Ġis',
      'Ġthe',
      'Ġred',
      'Ġcir',
      'c',
      'l',
      'e',
      '?',
    ]);
    expect(tok.encode('what is the red?')).toEqual({
      inputIds: [0, 44, 38, 35, 59, 31, 2, 1, 1, 1],
      attentionMask: [1, 1, 1, 1, 1, 1, 1, 0, 0, 0],
      truncated: false,
    });
    expect([tok.bosId, tok.eosId, tok.padId, tok.maxId]).toEqual([0, 2, 1, 63]);
  });

  it('truncates the text to keep <s> and </s> inside the window', () => {
    const e = tok.encode('what color is the red circle?');
    expect(e.inputIds).toHaveLength(10);
    expect([e.inputIds[0], e.inputIds[9], e.truncated]).toEqual([0, 2, true]);
    expect(e.attentionMask.every((m) => m === 1)).toBe(true);
  });

  it('gives characters outside the tiny vocabulary <unk> (id 3)', () => {
    expect(tok.encode('Red').inputIds.slice(0, 5)).toEqual([0, 3, 5 + 4, 5 + 3, 2]);
  });

  it('runs a byte-level vocabulary without <unk> when it covers every byte', () => {
    const alphabet = byteLevelAlphabet();
    expect(new Set(alphabet).size).toBe(256);
    const vocab = Object.fromEntries(['<s>', '<pad>', '</s>', ...alphabet].map((t, i) => [t, i]));
    const t = new MeterTokenizer(
      { ...tiny, added_tokens: [], model: { type: 'BPE', vocab, merges: [], unk_token: null } },
      8,
    );
    expect(t.tokenize('é!')).toEqual(['Ã', '©', '!']);
  });

  it.each([
    [
      'a WordPiece model',
      withModel({ type: 'WordPiece' }),
      /"model.type" is "WordPiece": METER's texts are tokenized with RoBERTa's byte-level "BPE" model/,
    ],
    ['merges that are not a list', withModel({ merges: 'a b' }), /"model.merges" must be a list of merges/],
    [
      'a malformed merge',
      withModel({ merges: ['a b c'] }),
      /"model.merges\[0\]" must be "a b" or \["a", "b"\]/,
    ],
    [
      'a merge of an unknown token',
      withModel({ merges: [['Ġ', 'A']] }),
      /"model.merges\[0\]" .* involves "A", not a token/,
    ],
    ['a merge into an unknown token', withModel({ merges: [['a', 'b']] }), /involves "ab", not a token/],
    [
      'an unknown unk token',
      withModel({ unk_token: '[UNK]' }),
      /"model.unk_token" must be null or name a token/,
    ],
    [
      'a byte-level vocabulary missing bytes without <unk>',
      withModel({ unk_token: null }),
      /needs a token for each of the 256 bytes; \d+ are missing/,
    ],
    [
      'a RobertaProcessing cls id outside the vocabulary',
      { ...tiny, post_processor: { type: 'RobertaProcessing', cls: ['<s>', 99], sep: ['</s>', 2] } },
      /"post_processor.cls" gives the id 99/,
    ],
  ])('refuses %s (TOKENIZER)', (_what, json, message) => {
    const e = thrown(() => new MeterTokenizer(json, 16));
    expect(e.code).toBe('TOKENIZER');
    expect(e.message).toMatch(message);
  });

  it('refuses a window without room for <s> and </s>', () => {
    expect(thrown(() => new MeterTokenizer(tiny, 1)).message).toMatch(/text window must be an integer >= 2/);
  });
});
