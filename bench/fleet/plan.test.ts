import { describe, expect, it } from 'vitest';
import { throughputPlan } from './plan.js';

describe('throughputPlan', () => {
  it('steps through 1..max backends with a backlog proportional to the fleet', () => {
    expect(throughputPlan(3, 12)).toEqual([
      { backends: 1, predictions: 12 },
      { backends: 2, predictions: 24 },
      { backends: 3, predictions: 36 },
    ]);
  });

  it('refuses counts that are not positive integers', () => {
    expect(() => throughputPlan(0, 12)).toThrow(RangeError);
    expect(() => throughputPlan(2, 1.5)).toThrow(RangeError);
  });
});
