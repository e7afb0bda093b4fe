import { describe, expect, it } from 'vitest';
import { backoffDelayMs, isRetryableStatus, parseRetryAfterMs } from './retry.js';

describe('backoffDelayMs', () => {
  const opts = { baseDelayMs: 100, maxDelayMs: 1000 };
  it('doubles the delay per retry within the jitter band', () => {
    expect(backoffDelayMs(1, opts, 0)).toBe(50);
    expect(backoffDelayMs(1, opts, 0.999999)).toBe(100);
    expect(backoffDelayMs(3, opts, 0)).toBe(200);
    expect(backoffDelayMs(3, opts, 0.5)).toBe(300);
  });
  it('caps the delay at maxDelayMs', () => {
    expect(backoffDelayMs(20, opts, 0.999999)).toBe(1000);
  });
  it('rejects retry numbers below 1', () => {
    expect(() => backoffDelayMs(0, opts, 0)).toThrow(RangeError);
  });
});

describe('parseRetryAfterMs', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads delta-seconds', () => expect(parseRetryAfterMs('3', now)).toBe(3000));
  it('reads an HTTP date relative to now', () => expect(parseRetryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000));
  it('gives undefined for a missing or garbage header', () => {
    expect(parseRetryAfterMs(null, now)).toBeUndefined();
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
  });
});

describe('isRetryableStatus', () => {
  it('retries 5xx, 429 and 408 but not other 4xx', () => {
    expect([500, 503, 429, 408].map(isRetryableStatus)).toEqual([true, true, true, true]);
    expect([400, 401, 404, 410].map(isRetryableStatus)).toEqual([false, false, false, false]);
  });
});
