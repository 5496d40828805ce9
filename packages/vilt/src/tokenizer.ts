import { Tokenizer } from '@huggingface/tokenizers';
import { type IntTensor, intTensor, PumerError } from '@pumer/core';
import { describeValue } from './json-value.js';
import { checkTokenizerJson } from './tokenizer-json.js';

/**
 * ViLT's question tokenizer: a Hugging Face tokenizer.json (BERT WordPiece, lower-casing) run by the
 * maintained @huggingface/tokenizers package, then framed the way ViltProcessor frames a question:
 * [CLS] question [SEP], truncated to keep both markers inside the text window, right-padded to the window.
 * The window is the model's max_position_embeddings: the reference reduces over the padded window.
 */

export interface EncodedQuestion {
  /** Token ids, exactly `window` long. */
  readonly inputIds: readonly number[];
  /** 1 for real tokens ([CLS] and [SEP] included), 0 for padding. */
  readonly attentionMask: readonly number[];
  /** Whether the question had to be cut to fit the window. */
  readonly truncated: boolean;
}

export interface EncodedBatch {
  readonly inputIds: IntTensor; // [B, window]
  readonly attentionMask: IntTensor; // [B, window]
  readonly truncated: readonly boolean[];
}

/**
 * The id of [CLS], [SEP] or [PAD]: the post-processor's or padding's own setting when the file has one, else
 * the token's id. It must be an id the tokenizer knows.
 */
function specialId(
  json: Record<string, unknown>,
  tokens: ReadonlyMap<number, string>,
  name: 'cls' | 'sep' | 'pad',
): number {
  const token = { cls: '[CLS]', sep: '[SEP]', pad: '[PAD]' }[name];
  let id: unknown;
  let from: string;
  if (name !== 'pad') {
    const post = json['post_processor'] as
      | { special_tokens?: Record<string, { ids?: unknown[] }> }
      | null
      | undefined;
    const ids = post?.special_tokens?.[token]?.ids;
    id = Array.isArray(ids) && ids.length === 1 ? ids[0] : undefined;
    from = `"post_processor.special_tokens.${token}.ids"`;
  } else {
    id = (json['padding'] as { pad_id?: unknown } | null | undefined)?.pad_id;
    from = '"padding.pad_id"';
  }
  if (id === undefined) {
    for (const [i, t] of tokens) if (t === token) return i;
    throw new PumerError('TOKENIZER', `tokenizer.json has no ${token} token`);
  }
  if (typeof id !== 'number' || !tokens.has(id))
    throw new PumerError(
      'TOKENIZER',
      `tokenizer.json: ${from} is ${describeValue(id)}, not the id of a token in the vocabulary`,
    );
  return id;
}

export class ViltTokenizer {
  private readonly tokenizer: Tokenizer;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  /** The largest id the tokenizer can produce: the word-embedding table needs more rows than that. */
  readonly maxId: number;

  /**
   * @param tokenizerJson parsed tokenizer.json
   * @param window the text window (config.json max_position_embeddings); at least 2 for [CLS] and [SEP]
   */
  constructor(
    tokenizerJson: unknown,
    readonly window: number,
  ) {
    if (tokenizerJson === null || typeof tokenizerJson !== 'object' || Array.isArray(tokenizerJson)) {
      throw new PumerError('TOKENIZER', 'tokenizer.json must be a JSON object');
    }
    if (!Number.isInteger(window) || window < 2) {
      throw new PumerError(
        'TOKENIZER',
        `text window must be an integer >= 2 ([CLS] and [SEP]), got ${window}`,
      );
    }
    const json = tokenizerJson as Record<string, unknown>;
    const checked = checkTokenizerJson(json);
    this.maxId = [...checked.tokens.keys()].reduce((a, b) => Math.max(a, b));
    const normalizer = (checked.libraryJson['normalizer'] as { type: string } | null)?.type ?? 'none';
    const preTokenizer = (checked.libraryJson['pre_tokenizer'] as { type: string } | null)?.type ?? 'none';
    try {
      this.tokenizer = new Tokenizer(checked.libraryJson, {});
      // The normalizer and pre-tokenizer run only on text: try them now, not on the first question.
      this.tokenizer.encode('a?', { add_special_tokens: false });
    } catch (err) {
      // The model and added tokens are checked above: what the library refused is one of these two sections.
      const msg = err instanceof Error ? err.message : String(err);
      throw new PumerError(
        'TOKENIZER',
        `tokenizer.json: the normalizer (${normalizer}) or pre_tokenizer (${preTokenizer}) is not one the tokenizers library can run: ${msg}`,
        { cause: err },
      );
    }
    this.clsId = specialId(json, checked.tokens, 'cls');
    this.sepId = specialId(json, checked.tokens, 'sep');
    this.padId = specialId(json, checked.tokens, 'pad');
  }

  /** The question's word pieces without special tokens (lower-cased, WordPiece-split). */
  tokenize(question: string): string[] {
    return this.tokenizer.tokenize(this.checkQuestion(question));
  }

  encode(question: string): EncodedQuestion {
    const body = this.tokenizer.encode(this.checkQuestion(question), { add_special_tokens: false }).ids;
    const room = this.window - 2;
    const truncated = body.length > room;
    const ids = [this.clsId, ...(truncated ? body.slice(0, room) : body), this.sepId];
    const mask = ids.map(() => 1);
    while (ids.length < this.window) {
      ids.push(this.padId);
      mask.push(0);
    }
    return { inputIds: ids, attentionMask: mask, truncated };
  }

  encodeBatch(questions: readonly string[]): EncodedBatch {
    const rows = questions.map((q) => this.encode(q));
    const w = this.window;
    return {
      inputIds: intTensor(
        rows.flatMap((r) => r.inputIds),
        [rows.length, w],
      ),
      attentionMask: intTensor(
        rows.flatMap((r) => r.attentionMask),
        [rows.length, w],
      ),
      truncated: rows.map((r) => r.truncated),
    };
  }

  private checkQuestion(question: unknown): string {
    if (typeof question !== 'string')
      throw new PumerError('TOKENIZER', `question must be a string, got ${typeof question}`);
    return question;
  }
}
