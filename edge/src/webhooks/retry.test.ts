import { describe, expect, it } from 'vitest';
import { MAX_QUEUE_DELAY_S, parseRetryAfter, retryDelay } from './retry.js';
import { DEFAULT_WEBHOOK_RETRY_SCHEDULE, parseDurationSeconds } from '../config.js';

const schedule = DEFAULT_WEBHOOK_RETRY_SCHEDULE.split(',').map((d) => parseDurationSeconds(d) ?? -1);

describe('webhook retry schedule', () => {
  it('is 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h by default, then gives up', () => {
    expect(schedule).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000]);
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => retryDelay(n, schedule, null))).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000, null]);
  });

  it('waits for Retry-After when it is later than the schedule, capped at the queue maximum', () => {
    expect(retryDelay(1, schedule, 120)).toBe(120);
    expect(retryDelay(3, schedule, 120)).toBe(1800);
    expect(retryDelay(7, schedule, 99_999)).toBe(MAX_QUEUE_DELAY_S);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('30', now)).toBe(30);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});
