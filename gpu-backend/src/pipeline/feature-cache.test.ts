import { describe, expect, it } from 'vitest';
import { FeatureCache } from './feature-cache.js';

describe('FeatureCache', () => {
  it('plans uniform full steps and serves the last stored feature', () => {
    const cache = FeatureCache.forRun(5, 5, { cache_interval: 2, cache_branch_id: 3, schedule: 'uniform' });
    expect([0, 1, 2, 3, 4].map((i) => cache.isFullStep(i))).toEqual([true, false, true, false, true]);
    expect(cache.captureBranch).toBe(3);
    const feature = { branch: 3, tensor: {} as never };
    cache.store(feature);
    expect(cache.feature).toBe(feature);
    cache.clear();
    expect(() => cache.feature).toThrow('shallow step before any full step');
  });

  it('runs every step full and captures nothing without caching', () => {
    const cache = FeatureCache.forRun(3, 3, { cache_interval: 1, cache_branch_id: 0, schedule: 'uniform' });
    expect([0, 1, 2].map((i) => cache.isFullStep(i))).toEqual([true, true, true]);
    expect(cache.captureBranch).toBeUndefined();
  });

  it('refuses a plan whose first step is shallow, and steps outside the plan', () => {
    expect(() => FeatureCache.fromKinds(['shallow', 'full'], 0)).toThrow(RangeError);
    expect(() => FeatureCache.forRun(2, 2, false).isFullStep(2)).toThrow(RangeError);
  });
});
