/**
 * The backend's structured JSON logs: the shared logger (`shared/http/logger.ts`) writing one line per event to
 * stdout. Callers never pass prompts, secrets or signatures; the shared logger redacts fields named like one.
 * @module
 */
import { createLogger as createJsonLogger, type LogFields, type Logger, type LoggerOptions } from '../../../shared/http/logger.js';

export type { LogFields, Logger, LoggerOptions, LogLevel } from '../../../shared/http/logger.js';

/** Writes one JSON document per line to stdout. */
const stdoutSink = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** Creates a JSON-lines logger (default sink: stdout); `bound` fields go on every line. */
export function createLogger(options: LoggerOptions = {}, bound: LogFields = {}): Logger {
  return createJsonLogger({ write: stdoutSink, ...options }, bound);
}
