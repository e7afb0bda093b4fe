/**
 * When to retry a failed webhook delivery (pure): the configured schedule (default 5 s, 5 min, 30 min, 2 h,
 * 5 h, 10 h, 10 h after attempts 1–7, then give up), stretched to the receiver's `Retry-After` when that is
 * later, and capped at the queue's longest delay (12 h).
 * @module
 */

/** Longest delay a queue message can be given (Cloudflare Queues: 12 h). */
export const MAX_QUEUE_DELAY_S = 43_200;

/** Seconds from a `Retry-After` value (delay-seconds or an HTTP date); null when absent or malformed. */
export function parseRetryAfter(value: string | null, nowMs: number = Date.now()): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d{1,9}$/.test(text)) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/**
 * Delay before the attempt after attempt `attempt` (1-based) failed.
 * @param schedule delays in seconds before attempts 2, 3, …
 * @returns seconds, or null when the schedule is exhausted
 */
export function retryDelay(attempt: number, schedule: readonly number[], retryAfterS: number | null): number | null {
  const planned = schedule[attempt - 1];
  if (planned === undefined) return null;
  return Math.min(MAX_QUEUE_DELAY_S, Math.max(planned, retryAfterS ?? 0));
}
