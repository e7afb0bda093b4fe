/**
 * Structured JSON logs for both services: one JSON document per event with `time`, `level`, `msg` and context
 * fields (`request_id`, `prediction_id`, timings…). Child loggers bind fields to every line they write. Errors
 * are written as `{ name, message, stack, cause }`. Secrets are never logged: callers do not pass prompts,
 * secrets or signatures, and any field whose name looks like one (`prompt`, `input`, `*secret*`, `*token*`,
 * `*signature*`, `authorization`, …) is written as `[redacted]`, at any depth, as a second line of defence.
 * Runtime-neutral: the default sink is `console` (workerd and Node alike); Node services may pass their own.
 * @module
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Levels from least to most severe. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const satisfies readonly LogLevel[];

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (its own fields win over the parent's). */
  child(fields: LogFields): Logger;
}

/** Receives one JSON document (no trailing newline) and the level it was written at. */
export type LogSink = (line: string, level: LogLevel) => void;

export interface LoggerOptions {
  /** Least severe level written (default `info`). */
  level?: LogLevel;
  /** Where lines go (default: `console.log`, `console.warn` for warnings, `console.error` for errors). */
  write?: LogSink;
  /** Clock for the `time` field (default: now). */
  now?: () => Date;
}

/** What a redacted value is written as. */
export const REDACTED = '[redacted]';

/** Field names whose values are never written out (case-insensitive). */
const SECRET_LOOKING_FIELD =
  /secret|signature|authorization|password|passphrase|credential|token|api_?key|cookie|^prompt$|^negative_prompt$|^input$/i;

/** How deep nested objects are walked before they are written as `[truncated]`. */
const MAX_DEPTH = 6;

/** True for a field name whose value must never be logged. */
export function isSecretLookingField(name: string): boolean {
  return SECRET_LOOKING_FIELD.test(name);
}

/** Writes a line to the console method matching its level. */
export const consoleSink: LogSink = (line, level) => {
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
};

/** An error as a plain object (its cause too, when it has one). */
function serializeError(error: Error, depth: number): Record<string, unknown> {
  return {
    name: error.name,
    message: error.message,
    ...(error.stack === undefined ? {} : { stack: error.stack }),
    ...(error.cause === undefined ? {} : { cause: sanitize(error.cause, depth + 1) }),
  };
}

/** A copy of `value` safe to write: secret-looking fields redacted, errors serialized, depth bounded. */
function sanitize(value: unknown, depth: number): unknown {
  if (value instanceof Error) return serializeError(value, depth);
  if (value === null || typeof value !== 'object') return typeof value === 'bigint' ? value.toString() : value;
  if (depth >= MAX_DEPTH) return '[truncated]';
  if (Array.isArray(value)) return value.map((item) => sanitize(item, depth + 1));
  const out: LogFields = {};
  for (const [name, field] of Object.entries(value)) {
    if (field === undefined) continue;
    out[name] = isSecretLookingField(name) ? REDACTED : sanitize(field, depth + 1);
  }
  return out;
}

/** A JSON-lines logger with bound fields. */
export class JsonLogger implements Logger {
  readonly #minRank: number;
  readonly #options: LoggerOptions;
  readonly #bound: LogFields;

  constructor(options: LoggerOptions = {}, bound: LogFields = {}) {
    this.#options = options;
    this.#minRank = LOG_LEVELS.indexOf(options.level ?? 'info');
    this.#bound = bound;
  }

  debug(msg: string, fields?: LogFields): void {
    this.#emit('debug', msg, fields);
  }

  info(msg: string, fields?: LogFields): void {
    this.#emit('info', msg, fields);
  }

  warn(msg: string, fields?: LogFields): void {
    this.#emit('warn', msg, fields);
  }

  error(msg: string, fields?: LogFields): void {
    this.#emit('error', msg, fields);
  }

  child(fields: LogFields): Logger {
    return new JsonLogger(this.#options, { ...this.#bound, ...fields });
  }

  #emit(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    if (LOG_LEVELS.indexOf(level) < this.#minRank) return;
    const time = (this.#options.now?.() ?? new Date()).toISOString();
    const context = sanitize({ ...this.#bound, ...fields }, 0) as LogFields;
    const line = JSON.stringify({ time, level, msg, ...context });
    (this.#options.write ?? consoleSink)(line, level);
  }
}

/** Creates a JSON-lines logger; `bound` fields go on every line. */
export function createLogger(options: LoggerOptions = {}, bound: LogFields = {}): Logger {
  return new JsonLogger(options, bound);
}
