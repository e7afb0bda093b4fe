import { describe, expect, it } from 'vitest';
import { median, quantile, relativeSpread, round } from './stats.js';

describe('median', () => {
  it('takes the middle value of an odd count regardless of order', () => {
    expect(median([5, 1, 3])).toBe(3);
  });
  it('averages the two middle values of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
  it('refuses an empty list', () => {
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('quantile', () => {
  it('interpolates linearly between order statistics', () => {
    expect(quantile([10, 20, 30, 40, 50], 0.95)).toBeCloseTo(48, 10);
    expect(quantile([3, 1, 2], 0.5)).toBe(2);
    expect(quantile([7], 0.95)).toBe(7);
  });
  it('refuses q outside [0, 1]', () => {
    expect(() => quantile([1], 1.5)).toThrow(RangeError);
  });
});

describe('relativeSpread and round', () => {
  it('relates the range to the median', () => {
    expect(relativeSpread([9, 10, 11])).toBeCloseTo(0.2, 10);
  });
  it('rounds to the given decimals', () => {
    expect(round(1.23456, 2)).toBe(1.23);
  });
});
