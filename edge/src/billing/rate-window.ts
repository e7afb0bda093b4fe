/**
 * Fixed-window request counting (pure): windows are aligned to multiples of the window length since the
 * epoch, so `RateLimit: t=` is the time to the next boundary.
 * @module
 */

export interface WindowState {
  /** Start of the counted window, epoch seconds. */
  start: number;
  count: number;
}

export interface WindowDecision {
  allowed: boolean;
  next: WindowState;
  remaining: number;
  resetSeconds: number;
}

/**
 * Counts one request at `nowS` against `limit` per `windowS` seconds.
 * A refused request is not counted (retrying after the reset always succeeds).
 */
export function countRequest(previous: WindowState | null, nowS: number, limit: number, windowS: number): WindowDecision {
  const start = Math.floor(nowS / windowS) * windowS;
  const current = previous !== null && previous.start === start ? previous.count : 0;
  const resetSeconds = Math.max(1, Math.ceil(start + windowS - nowS));
  if (current >= limit) return { allowed: false, next: { start, count: current }, remaining: 0, resetSeconds };
  return { allowed: true, next: { start, count: current + 1 }, remaining: limit - current - 1, resetSeconds };
}
