/**
 * Request headers of the create routes: `Prefer: wait[=n]` (RFC 7240) and `Cancel-After` (a duration).
 * @module
 */
import { ApiError } from '../errors/api-error.js';

/** Longest synchronous wait, in seconds. */
export const MAX_WAIT_S = 60;
/** Cancel-After bounds, in seconds. */
export const MIN_CANCEL_AFTER_S = 5;
export const MAX_CANCEL_AFTER_S = 24 * 60 * 60;

/**
 * Seconds to wait from a `Prefer` header: `wait` alone means the maximum, `wait=n` waits n (capped at 60);
 * 0 when the header asks for no wait.
 * @throws ApiError 400 when `wait` has a value that is not a whole number of seconds
 */
export function parsePreferWait(header: string | undefined): number {
  if (!header) return 0;
  for (const token of header.split(/[,;]/)) {
    const [name, raw] = token
      .trim()
      .split('=', 2)
      .map((s) => s.trim());
    if (name?.toLowerCase() !== 'wait') continue;
    if (raw === undefined || raw === '') return MAX_WAIT_S;
    const value = raw.replace(/^"|"$/g, '');
    if (!/^\d{1,6}$/.test(value)) {
      throw new ApiError(400, 'validation-failed', 'Prefer: wait must be "wait" or "wait=<seconds>"', {
        errors: [{ pointer: '/headers/prefer', message: 'not a whole number of seconds' }],
      });
    }
    return Math.min(MAX_WAIT_S, Number(value));
  }
  return 0;
}

/**
 * Seconds from a `Cancel-After` header: plain seconds (`90`) or a duration (`1h30m`, `5m`, `45s`, `1.5m`).
 * @returns undefined when the header is absent
 * @throws ApiError 400 when malformed or outside 5 s … 24 h
 */
export function parseCancelAfter(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  let seconds: number | undefined;
  if (/^\d{1,6}$/.test(text)) seconds = Number(text);
  else {
    const match = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(text);
    if (match && text.length > 0) seconds = Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0);
  }
  const pointer = '/headers/cancel-after';
  if (seconds === undefined) {
    throw new ApiError(400, 'validation-failed', 'Cancel-After must be seconds or a duration like "5m" or "1h30m"', {
      errors: [{ pointer, message: 'malformed duration' }],
    });
  }
  if (seconds < MIN_CANCEL_AFTER_S || seconds > MAX_CANCEL_AFTER_S) {
    throw new ApiError(400, 'validation-failed', `Cancel-After must be between ${MIN_CANCEL_AFTER_S} s and ${MAX_CANCEL_AFTER_S} s`, {
      errors: [{ pointer, message: 'out of range' }],
    });
  }
  return seconds;
}
