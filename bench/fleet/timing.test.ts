import { describe, expect, it } from 'vitest';
import { batchThroughput, ratiosToFirst, startDelayMs, type TimedPrediction } from './timing.js';

const at = (s: number): string => new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString();
const done = (id: string, created: number, started: number, completed: number, images: number, status = 'succeeded'): TimedPrediction => ({
  id,
  status,
  created_at: at(created),
  started_at: at(started),
  completed_at: at(completed),
  output: Array.from({ length: images }, (_, i) => `u${i}`),
});

describe('startDelayMs', () => {
  it('is started_at − created_at in milliseconds', () => {
    expect(startDelayMs(done('a', 10, 10.25, 12, 1))).toBe(250);
  });

  it('refuses a prediction that never started', () => {
    expect(() => startDelayMs({ ...done('a', 0, 0, 1, 0, 'canceled'), started_at: null })).toThrow(RangeError);
  });
});

describe('batchThroughput', () => {
  it('counts succeeded images over first create → last completion, whatever the order', () => {
    const batch = [done('b', 2, 3, 30, 2), done('a', 0, 1, 10, 1), done('c', 1, 2, 20, 1, 'failed')];
    // 3 images in 30 s.
    expect(batchThroughput(batch)).toEqual({ predictions: 3, images: 3, window_s: 30, images_per_minute: 6 });
  });

  it('refuses an empty batch and one with a prediction still running', () => {
    expect(() => batchThroughput([])).toThrow(RangeError);
    expect(() => batchThroughput([{ ...done('a', 0, 1, 2, 1), completed_at: null }])).toThrow(RangeError);
  });
});

describe('ratiosToFirst', () => {
  it('divides by the first value', () => {
    expect(ratiosToFirst([10, 19, 27.5])).toEqual([1, 1.9, 2.75]);
  });

  it('refuses an empty list and a non-positive base', () => {
    expect(() => ratiosToFirst([])).toThrow(RangeError);
    expect(() => ratiosToFirst([0, 1])).toThrow(RangeError);
  });
});
