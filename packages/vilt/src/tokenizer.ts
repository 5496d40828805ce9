import { Tokenizer } from '@huggingface/tokenizers';
import { type IntTensor, intTensor, PumerError } from '@pumer/core';

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

function specialId(tok: Tokenizer, json: Record<string, unknown>, name: 'cls' | 'sep' | 'pad'): number {
  const post = json['post_processor'] as
    | { special_tokens?: Record<string, { ids?: number[] }> }
    | null
    | undefined;
  const token = { cls: '[CLS]', sep: '[SEP]', pad: '[PAD]' }[name];
  if (name !== 'pad') {
    const ids = post?.special_tokens?.[token]?.ids;
    if (Array.isArray(ids) && ids.length === 1 && Number.isInteger(ids[0])) return ids[0];
  } else {
    const padId = (json['padding'] as { pad_id?: unknown } | null | undefined)?.pad_id;
    if (typeof padId === 'number' && Number.isInteger(padId)) return padId;
  }
  const id = tok.token_to_id(token);
  if (id === undefined) throw new PumerError('TOKENIZER', `tokenizer.json has no ${token} token`);
  return id;
}

export class ViltTokenizer {
  private readonly tokenizer: Tokenizer;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;

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
    const model = json['model'] as { type?: unknown } | undefined;
    if (!model || typeof model !== 'object')
      throw new PumerError('TOKENIZER', 'tokenizer.json has no "model" section');
    try {
      this.tokenizer = new Tokenizer(json, {});
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new PumerError('TOKENIZER', `tokenizer.json could not be loaded: ${msg}`, { cause: err });
    }
    this.clsId = specialId(this.tokenizer, json, 'cls');
    this.sepId = specialId(this.tokenizer, json, 'sep');
    this.padId = specialId(this.tokenizer, json, 'pad');
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
