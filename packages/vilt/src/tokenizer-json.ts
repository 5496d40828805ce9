import { PumerError } from '@pumer/core';
import { describeValue } from './json-value.js';

/**
 * Checks a tokenizer.json before the tokenizers library sees it. The library accepts much that it cannot run:
 * an unknown `model.type` is guessed from the fields, an empty vocabulary, fractional, string or duplicate ids
 * load and come back out of encode() as token ids, and a missing section fails deep inside with "Cannot read
 * properties of undefined". ViLT's questions are tokenized by BERT's WordPiece, so that is the model read here;
 * every id it can produce is a non-negative integer naming one token.
 */

/** What the library is given and what the tokenizer needs to know about the ids. */
export interface CheckedTokenizerJson {
  /**
   * The file's normalizer, pre-tokenizer, WordPiece model and added tokens, with absent optional parts filled
   * in. No post-processor or decoder: the question is framed here ([CLS] ... [SEP]) and never decoded.
   */
  readonly libraryJson: Record<string, unknown>;
  /** Every id the tokenizer can produce (vocabulary and added tokens) -> its token. */
  readonly tokens: ReadonlyMap<number, string>;
}

/** The WordPiece settings transformers' tokenizers default to when a file leaves them out. */
const WORDPIECE_DEFAULTS = Object.freeze({ continuing_subword_prefix: '##', max_input_chars_per_word: 100 });

function fail(message: string): never {
  throw new PumerError('TOKENIZER', `tokenizer.json: ${message}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const isTokenId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** A pipeline section (normalizer, pre_tokenizer): absent or null = none, else an object naming its type. */
function section(json: Record<string, unknown>, name: string): Record<string, unknown> | null {
  const s = json[name];
  if (s === undefined || s === null) return null;
  if (!isPlainObject(s) || typeof s['type'] !== 'string')
    fail(`"${name}" must be null or an object with a "type" name, got ${describeValue(s)}`);
  return s;
}

function checkVocab(model: Record<string, unknown>): Map<number, string> {
  const vocab = model['vocab'];
  if (!isPlainObject(vocab))
    fail(`"model.vocab" must be an object mapping each token to its id, got ${describeValue(vocab)}`);
  const tokens = new Map<number, string>();
  for (const [token, id] of Object.entries(vocab)) {
    if (!isTokenId(id))
      fail(`"model.vocab" gives ${describeValue(token)} the id ${describeValue(id)}, not an integer >= 0`);
    const other = tokens.get(id);
    if (other !== undefined)
      fail(`"model.vocab" gives the id ${id} to both ${describeValue(other)} and ${describeValue(token)}`);
    tokens.set(id, token);
  }
  if (tokens.size === 0) fail('"model.vocab" is empty');
  return tokens;
}

function checkModel(json: Record<string, unknown>): {
  model: Record<string, unknown>;
  tokens: Map<number, string>;
} {
  const model = json['model'];
  if (!isPlainObject(model)) fail(`has no "model" section (got ${describeValue(model)})`);
  if (model['type'] !== 'WordPiece') {
    fail(
      `"model.type" is ${describeValue(model['type'])}: ViLT's questions are tokenized with BERT's "WordPiece" model`,
    );
  }
  const tokens = checkVocab(model);
  const ids = new Map([...tokens].map(([id, token]) => [token, id]));
  const unk = model['unk_token'];
  if (typeof unk !== 'string' || !ids.has(unk))
    fail(`"model.unk_token" must name a token of "model.vocab", got ${describeValue(unk)}`);
  const prefix = model['continuing_subword_prefix'] ?? WORDPIECE_DEFAULTS.continuing_subword_prefix;
  if (typeof prefix !== 'string')
    fail(`"model.continuing_subword_prefix" must be a string, got ${describeValue(prefix)}`);
  const maxChars = model['max_input_chars_per_word'] ?? WORDPIECE_DEFAULTS.max_input_chars_per_word;
  if (!isTokenId(maxChars) || maxChars === 0)
    fail(`"model.max_input_chars_per_word" must be a positive integer, got ${describeValue(maxChars)}`);
  return {
    model: { ...model, continuing_subword_prefix: prefix, max_input_chars_per_word: maxChars },
    tokens,
  };
}

/** Added tokens (absent = none) must not contradict the vocabulary: one token per id, one id per token. */
function checkAddedTokens(json: Record<string, unknown>, tokens: Map<number, string>): unknown[] {
  const added = json['added_tokens'] ?? [];
  if (!Array.isArray(added)) fail(`"added_tokens" must be a list, got ${describeValue(added)}`);
  const ids = new Map([...tokens].map(([id, token]) => [token, id]));
  added.forEach((t, i) => {
    const where = `added_tokens[${i}]`;
    if (!isPlainObject(t))
      fail(`"${where}" must be an object with "id" and "content", got ${describeValue(t)}`);
    const { id, content } = t;
    if (!isTokenId(id)) fail(`"${where}.id" must be an integer >= 0, got ${describeValue(id)}`);
    if (typeof content !== 'string' || content.length === 0)
      fail(`"${where}.content" must be a non-empty string, got ${describeValue(content)}`);
    const tokenOfId = tokens.get(id);
    const idOfToken = ids.get(content);
    if ((tokenOfId !== undefined && tokenOfId !== content) || (idOfToken !== undefined && idOfToken !== id)) {
      const clash =
        tokenOfId !== undefined && tokenOfId !== content ? describeValue(tokenOfId) : `id ${idOfToken}`;
      fail(`"${where}" gives ${describeValue(content)} the id ${id}, which clashes with ${clash}`);
    }
    tokens.set(id, content);
    ids.set(content, id);
  });
  return added;
}

/** Checks parsed tokenizer.json (an object) and returns what the library runs; throws TOKENIZER errors. */
export function checkTokenizerJson(json: Record<string, unknown>): CheckedTokenizerJson {
  const { model, tokens } = checkModel(json);
  const added = checkAddedTokens(json, tokens);
  return {
    libraryJson: {
      normalizer: section(json, 'normalizer'),
      pre_tokenizer: section(json, 'pre_tokenizer'),
      model,
      added_tokens: added,
      post_processor: null,
      decoder: null,
    },
    tokens,
  };
}
