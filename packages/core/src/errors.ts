/**
 * Every error PuMer.js throws on purpose is a PumerError with a stable `code`, so callers (and the CLI)
 * can tell bad input from bugs without parsing messages.
 */
export type PumerErrorCode =
  | 'CONFIG'
  | 'SHAPE'
  | 'VALUE'
  | 'BACKEND'
  | 'CHECKPOINT'
  | 'IMAGE'
  | 'TOKENIZER'
  | 'GOLDEN';

export class PumerError extends Error {
  readonly code: PumerErrorCode;
  constructor(code: PumerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PumerError';
    this.code = code;
  }
}

/** A reduction config field holds a value outside what the method defines. */
export class ConfigError extends PumerError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('CONFIG', `invalid reduction config: ${field} ${message}`);
    this.name = 'ConfigError';
    this.field = field;
  }
}

/** A tensor's shape or dtype disagrees with what an op expects. */
export class ShapeError extends PumerError {
  constructor(message: string) {
    super('SHAPE', message);
    this.name = 'ShapeError';
  }
}

/** A backend is unknown, failed to initialise, or cannot run an op. */
export class BackendError extends PumerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BACKEND', message, options);
    this.name = 'BackendError';
  }
}
