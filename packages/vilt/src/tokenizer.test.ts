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
});
