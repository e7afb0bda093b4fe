import { describe, expect, it } from 'vitest';
import { deepcacheStepPlan, nonUniformFullSteps } from './deepcache-schedule.js';

describe('uniform DeepCache plan', () => {
  it('makes step i full iff i % interval == 0, counting loop steps', () => {
    const plan = deepcacheStepPlan(11, 10, { cache_interval: 3, cache_branch_id: 0, schedule: 'uniform' });
    expect(plan.map((f) => (f ? 'F' : 's')).join('')).toBe('FssFssFssFs');
  });

  it('is all full for interval 1 and for no DeepCache', () => {
    expect(deepcacheStepPlan(5, 5, { cache_interval: 1, cache_branch_id: 4, schedule: 'uniform' })).toEqual([true, true, true, true, true]);
    expect(deepcacheStepPlan(3, 3, false)).toEqual([true, true, true]);
  });
});

describe('non-uniform DeepCache schedule', () => {
  // Step lists produced by DeepCache's own sample_from_quad_center (recorded in the fixtures' manifests).
  it.each([
    [20, 4, 10, [0, 6, 10, 14]],
    [20, 7, 10, [0, 4, 7, 9, 11, 13, 16]],
    [10, 4, 5, [0, 3, 5, 7]],
  ])('reproduces the reference steps for n=%i, k=%i, center=%i', (n, k, center, expected) => {
    expect(nonUniformFullSteps(n, k, center, 1.4)).toEqual({ steps: expected, power: 1.4 });
  });

  it('lowers the exponent by 0.02 until k distinct steps exist', () => {
    const r = nonUniformFullSteps(20, 10, 6, 1.4);
    expect(r.steps).toHaveLength(10);
    expect(r.power).toBeLessThan(1.4);
    expect(new Set(r.steps).size).toBe(10);
  });

  it('refuses settings with no schedule', () => {
    expect(() => nonUniformFullSteps(10, 10, 9, 1.4)).toThrow(RangeError);
  });

  it('builds a plan with full steps exactly at the schedule', () => {
    const plan = deepcacheStepPlan(20, 20, { cache_interval: 5, cache_branch_id: 0, schedule: 'nonuniform', center: 10, power: 1.4 });
    expect(plan.flatMap((f, i) => (f ? [i] : []))).toEqual([0, 6, 10, 14]);
  });
});
