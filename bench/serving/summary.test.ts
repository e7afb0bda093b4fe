import { describe, expect, it } from 'vitest';
import { pairedOverhead, summarize } from './summary.js';

describe('summarize', () => {
  it('interpolates p50 and p95 between order statistics regardless of sample order', () => {
    const s = summarize([50, 10, 40, 20, 30]);
    expect(s).toEqual({ n: 5, p50: 30, p95: 48, min: 10, max: 50, mean: 30 });
  });

  it('refuses an empty list and non-finite samples', () => {
    expect(() => summarize([])).toThrow(RangeError);
    expect(() => summarize([1, Number.NaN])).toThrow(RangeError);
  });
});

describe('pairedOverhead', () => {
  it('takes differences per pair, not between the medians of the two lists', () => {
    // Bare times drift upwards; each API run is its partner + 10 ms (+5 % of bare for the relative figure).
    const bare = [100, 200, 300, 400];
    const api = [110, 210, 310, 410];
    const o = pairedOverhead(bare, api);
    expect(o.absolute_ms.p50).toBe(10);
    expect(o.absolute_ms.p95).toBe(10);
    expect(o.relative.max).toBe(0.1);
    expect(o.relative.min).toBe(0.025);
    expect(o.p50_difference_ms).toBe(10);
  });

  it('refuses lists of different lengths and non-positive bare times', () => {
    expect(() => pairedOverhead([1, 2], [1])).toThrow(RangeError);
    expect(() => pairedOverhead([0], [1])).toThrow(RangeError);
  });
});
