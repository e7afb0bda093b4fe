/**
 * Retry timing for outgoing calls: exponential backoff with jitter, and `Retry-After` parsing.
 * Pure functions; the randomness is passed in.
 * @module
 */

export interface BackoffOptions {
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Delay before retry number `retry` (1 = the first retry): `min(max, base·2^(retry-1))`, scaled by a jitter
 * factor in [0.5, 1) so that many senders retrying together spread out.
 * @param random a number in [0, 1)
 */
export function backoffDelayMs(retry: number, options: BackoffOptions, random: number): number {
  if (!Number.isInteger(retry) || retry < 1) throw new RangeError(`retry must be an integer ≥ 1, got ${retry}`);
  const capped = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.min(retry - 1, 30));
  return Math.round(capped * (0.5 + random / 2));
}

/**
 * Milliseconds a `Retry-After` header asks to wait (delta-seconds or an HTTP date), or undefined when the
 * header is absent or unparseable. Dates in the past give 0.
 */
export function parseRetryAfterMs(header: string | null | undefined, nowMs: number): number | undefined {
  if (header === null || header === undefined) return undefined;
  const v = header.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** Whether an HTTP status from a callback receiver is worth retrying (5xx, 429, 408). */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}
