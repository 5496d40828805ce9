import { PumerError } from '@pumer/core';
import { describeValue } from './json-value.js';

/**
 * Checks a tokenizer.json before the tokenizers library sees it. The library accepts much that it cannot run:
 * an unknown `model.type` is guessed from the fields, an empty vocabulary, fractional, string or duplicate ids
 * load and come back out of encode() as token ids, and a missing section fails deep inside with "Cannot read
 * properties of undefined". ViLT's questions are tokenized by BERT's WordPiece, METER's by RoBERTa's byte-level
 * BPE: the caller names the model type it runs, and every id the file can produce is a non-negative integer
 * naming one token.
 */

/** What the library is given and what the tokenizer needs to know about the ids. */
export interface CheckedTokenizerJson {
  /**
   * The file's normalizer, pre-tokenizer, model and added tokens, with absent optional parts filled in. No
   * post-processor or decoder: the caller frames the text ([CLS] ... [SEP], <s> ... </s>) and never decodes.
   */
  readonly libraryJson: Record<string, unknown>;
  /** Every id the tokenizer can produce (vocabulary and added tokens) -> its token. */
  readonly tokens: ReadonlyMap<number, string>;
}

/** The WordPiece settings transformers' tokenizers default to when a file leaves them out. */
const WORDPIECE_DEFAULTS = Object.freeze({ continuing_subword_prefix: '##', max_input_chars_per_word: 100 });

/** The tokenizer models read here, and which model's text each one tokenizes (for the error on another). */
export type TokenizerModelType = 'WordPiece' | 'BPE';

export interface TokenizerExpectation {
  readonly type: TokenizerModelType;
  /** Whose text this tokenizer is for, e.g. "ViLT's questions are tokenized with BERT's". */
  readonly usedBy: string;
}

/** ViLT's: BERT's WordPiece. */
export const WORDPIECE_TOKENIZER: TokenizerExpectation = Object.freeze({
  type: 'WordPiece',
  usedBy: "ViLT's questions are tokenized with BERT's",
});

/**
 * The characters ByteLevel maps the 256 bytes to (GPT-2's table: printable Latin-1 bytes stand for themselves,
 * the rest are shifted past U+0100). A byte-level BPE without an unk token must have a token for each of them:
 * the tokenizers library silently drops a symbol it has no token for.
 */
export function byteLevelAlphabet(): string[] {
  const bytes: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bytes.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bytes.push(b);
  for (let b = 0xae; b <= 0xff; b++) bytes.push(b);
  const chars = new Map(bytes.map((b) => [b, b]));
  let shift = 0;
  for (let b = 0; b < 256; b++) if (!chars.has(b)) chars.set(b, 256 + shift++);
  return [...chars.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => String.fromCodePoint(c));
}

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

function checkWordPiece(model: Record<string, unknown>, ids: Map<string, number>): Record<string, unknown> {
  const unk = model['unk_token'];
  if (typeof unk !== 'string' || !ids.has(unk))
    fail(`"model.unk_token" must name a token of "model.vocab", got ${describeValue(unk)}`);
  const prefix = model['continuing_subword_prefix'] ?? WORDPIECE_DEFAULTS.continuing_subword_prefix;
  if (typeof prefix !== 'string')
    fail(`"model.continuing_subword_prefix" must be a string, got ${describeValue(prefix)}`);
  const maxChars = model['max_input_chars_per_word'] ?? WORDPIECE_DEFAULTS.max_input_chars_per_word;
  if (!isTokenId(maxChars) || maxChars === 0)
    fail(`"model.max_input_chars_per_word" must be a positive integer, got ${describeValue(maxChars)}`);
  return { ...model, continuing_subword_prefix: prefix, max_input_chars_per_word: maxChars };
}

/**
 * BPE: merges are "a b" strings or [a, b] pairs whose parts and result are tokens of the vocabulary (a merge
 * into an unknown token would emit a symbol with no id); unk_token is null or a token. Byte-level BPE (the
 * ByteLevel pre-tokenizer, RoBERTa's) without an unk token needs a token for every byte.
 */
function checkBpe(
  model: Record<string, unknown>,
  ids: Map<string, number>,
  json: Record<string, unknown>,
): Record<string, unknown> {
  const merges = model['merges'];
  if (!Array.isArray(merges))
    fail(`"model.merges" must be a list of merges ("a b" or ["a", "b"]), got ${describeValue(merges)}`);
  // With a continuing-subword prefix the merged token is spelled differently from its parts' concatenation.
  const prefixed =
    typeof model['continuing_subword_prefix'] === 'string' && model['continuing_subword_prefix'] !== '';
  merges.forEach((m, i) => {
    const pair = typeof m === 'string' ? m.split(' ') : m;
    if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((p) => typeof p === 'string' && p !== ''))
      fail(`"model.merges[${i}]" must be "a b" or ["a", "b"], got ${describeValue(m)}`);
    for (const token of prefixed ? [pair[0], pair[1]] : [pair[0], pair[1], `${pair[0]}${pair[1]}`]) {
      if (!ids.has(token))
        fail(
          `"model.merges[${i}]" (${describeValue(m)}) involves ${describeValue(token)}, not a token of "model.vocab"`,
        );
    }
  });
  const unk = model['unk_token'] ?? null;
  if (unk !== null && (typeof unk !== 'string' || !ids.has(unk)))
    fail(`"model.unk_token" must be null or name a token of "model.vocab", got ${describeValue(unk)}`);
  const pre = json['pre_tokenizer'] as { type?: unknown } | null | undefined;
  if (unk === null && pre?.type === 'ByteLevel') {
    const missing = byteLevelAlphabet().filter((c) => !ids.has(c));
    if (missing.length > 0)
      fail(
        `byte-level BPE without "model.unk_token" needs a token for each of the 256 bytes; ${missing.length} are missing (e.g. ${describeValue(missing[0])}), and text holding them would lose characters silently`,
      );
  }
  return { ...model, unk_token: unk };
}

function checkModel(
  json: Record<string, unknown>,
  expected: TokenizerExpectation,
): {
  model: Record<string, unknown>;
  tokens: Map<number, string>;
} {
  const model = json['model'];
  if (!isPlainObject(model)) fail(`has no "model" section (got ${describeValue(model)})`);
  if (model['type'] !== expected.type) {
    fail(`"model.type" is ${describeValue(model['type'])}: ${expected.usedBy} "${expected.type}" model`);
  }
  const tokens = checkVocab(model);
  const ids = new Map([...tokens].map(([id, token]) => [token, id]));
  return {
    model: expected.type === 'WordPiece' ? checkWordPiece(model, ids) : checkBpe(model, ids, json),
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

/**
 * Checks parsed tokenizer.json (an object) for the model type `expected` names (default ViLT's WordPiece) and
 * returns what the library runs; throws TOKENIZER errors.
 */
export function checkTokenizerJson(
  json: Record<string, unknown>,
  expected: TokenizerExpectation = WORDPIECE_TOKENIZER,
): CheckedTokenizerJson {
  const { model, tokens } = checkModel(json, expected);
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
