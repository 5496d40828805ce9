import { Tokenizer } from '@huggingface/tokenizers';
import { PumerError } from '@pumer/core';
import {
  checkTokenizerJson,
  describeValue,
  type EncodedQuestion,
  type TokenizerExpectation,
} from '@pumer/vilt';

/**
 * METER's text tokenizer: RoBERTa's byte-level BPE from a Hugging Face tokenizer.json, run by the maintained
 * @huggingface/tokenizers package (the file checked first by @pumer/vilt's checkTokenizerJson), then framed as
 * RoBERTa frames one text: `<s> text </s>`, truncated to keep both inside the text window, right-padded with
 * `<pad>` to the window (the authors pad to max_text_len, and the reducers count over the padded window).
 */

export const BPE_TOKENIZER: TokenizerExpectation = Object.freeze({
  type: 'BPE',
  usedBy: "METER's texts are tokenized with RoBERTa's byte-level",
});

/** RoBERTa's special tokens. */
const SPECIAL = Object.freeze({ bos: '<s>', eos: '</s>', pad: '<pad>' });

function tokenId(tokens: ReadonlyMap<number, string>, token: string): number | undefined {
  for (const [id, t] of tokens) if (t === token) return id;
  return undefined;
}

/**
 * The id of `<s>`, `</s>` or `<pad>`: the file's post-processor (RobertaProcessing's `cls` / `sep`) or padding
 * (`pad_id`) when it says, else the token's own id. It must be an id the tokenizer knows.
 */
function specialId(
  json: Record<string, unknown>,
  tokens: ReadonlyMap<number, string>,
  which: keyof typeof SPECIAL,
): number {
  let id: unknown;
  let from = '';
  if (which === 'pad') {
    id = (json['padding'] as { pad_id?: unknown } | null | undefined)?.pad_id;
    from = '"padding.pad_id"';
  } else {
    const post = json['post_processor'] as Record<string, unknown> | null | undefined;
    const field = which === 'bos' ? 'cls' : 'sep';
    const pair = post?.['type'] === 'RobertaProcessing' ? post[field] : undefined;
    id = Array.isArray(pair) && pair.length === 2 ? pair[1] : undefined;
    from = `"post_processor.${field}"`;
  }
  if (id === undefined) {
    const own = tokenId(tokens, SPECIAL[which]);
    if (own === undefined) throw new PumerError('TOKENIZER', `tokenizer.json has no ${SPECIAL[which]} token`);
    return own;
  }
  if (typeof id !== 'number' || !tokens.has(id))
    throw new PumerError(
      'TOKENIZER',
      `tokenizer.json: ${from} gives the id ${describeValue(id)}, not the id of a token in the vocabulary`,
    );
  return id;
}

export class MeterTokenizer {
  private readonly tokenizer: Tokenizer;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  /** The largest id the tokenizer can produce: the word-embedding table needs more rows than that. */
  readonly maxId: number;

  /**
   * @param tokenizerJson parsed tokenizer.json (a BPE model)
   * @param window the text window (config.json max_text_len); at least 2 for `<s>` and `</s>`
   */
  constructor(
    tokenizerJson: unknown,
    readonly window: number,
  ) {
    if (tokenizerJson === null || typeof tokenizerJson !== 'object' || Array.isArray(tokenizerJson))
      throw new PumerError('TOKENIZER', 'tokenizer.json must be a JSON object');
    if (!Number.isInteger(window) || window < 2)
      throw new PumerError('TOKENIZER', `text window must be an integer >= 2 (<s> and </s>), got ${window}`);
    const json = tokenizerJson as Record<string, unknown>;
    const checked = checkTokenizerJson(json, BPE_TOKENIZER);
    this.maxId = Math.max(...checked.tokens.keys());
    const part = (name: string) => (checked.libraryJson[name] as { type: string } | null)?.type ?? 'none';
    try {
      this.tokenizer = new Tokenizer(checked.libraryJson, {});
      // The normalizer and pre-tokenizer run only on text: try them now, not on the first question.
      this.tokenizer.encode('a b?', { add_special_tokens: false });
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new PumerError(
        'TOKENIZER',
        `tokenizer.json: the normalizer (${part('normalizer')}) or pre_tokenizer (${part('pre_tokenizer')}) is not one the tokenizers library can run: ${msg}`,
        { cause: err },
      );
    }
    this.bosId = specialId(json, checked.tokens, 'bos');
    this.eosId = specialId(json, checked.tokens, 'eos');
    this.padId = specialId(json, checked.tokens, 'pad');
  }

  /** The text's BPE tokens without special tokens (byte-level: a leading space shows as "Ġ"). */
  tokenize(text: string): string[] {
    return this.tokenizer.tokenize(checkText(text));
  }

  encode(text: string): EncodedQuestion {
    const body = this.tokenizer.encode(checkText(text), { add_special_tokens: false }).ids;
    const room = this.window - 2;
    const truncated = body.length > room;
    const ids = [this.bosId, ...(truncated ? body.slice(0, room) : body), this.eosId];
    const mask = ids.map(() => 1);
    while (ids.length < this.window) {
      ids.push(this.padId);
      mask.push(0);
    }
    return { inputIds: ids, attentionMask: mask, truncated };
  }
}

function checkText(text: unknown): string {
  if (typeof text !== 'string')
    throw new PumerError('TOKENIZER', `text must be a string, got ${typeof text}`);
  return text;
}
