import { describe, expect, it } from 'vitest';
import type { MacCounts } from '../../gpu-backend/src/onnx/index.js';
import { DEEPCACHE_CASES, callTimeSpeedup, caseBranches, caseLabel, planCeiling, planCounts } from './cases.js';

const macs = (paper: number, attention: number): MacCounts => ({ conv: paper, linear: 0, attention, paper, total: paper + attention });

describe('planCounts', () => {
  it('counts every interval-th loop step as full on the uniform schedule (PLMS 50 steps = 51 evaluations)', () => {
    expect(planCounts({ interval: 3, branch: 0, schedule: 'uniform' }, 51, 50)).toEqual({ full: 17, shallow: 34 });
    expect(planCounts({ interval: 5, branch: 0, schedule: 'uniform' }, 51, 50)).toEqual({ full: 11, shallow: 40 });
  });
  it('gives the non-uniform schedule ceil(n / interval) full steps', () => {
    expect(planCounts({ interval: 5, branch: 0, schedule: 'nonuniform' }, 51, 50).full).toBe(10);
  });
});

describe('planCeiling', () => {
  it('is n·full / (k·full + (n−k)·shallow) in both conventions', () => {
    const c = planCeiling(macs(100, 20), macs(10, 2), { full: 1, shallow: 3 });
    expect(c.paper).toBeCloseTo(400 / 130, 12);
    expect(c.withAttention).toBeCloseTo(480 / 156, 12);
  });
  it('is 1 when every step is full', () => {
    expect(planCeiling(macs(100, 20), macs(10, 2), { full: 5, shallow: 0 }).paper).toBe(1);
  });
});

describe('cases', () => {
  it('labels cases as the peer does and lists the branches they need', () => {
    expect(DEEPCACHE_CASES.map(caseLabel)).toContain('I5B0-nonuniform');
    expect(caseLabel({ interval: 2, branch: 3, schedule: 'uniform' })).toBe('I2B3');
    expect(caseBranches(DEEPCACHE_CASES)).toEqual([0, 1, 3]);
  });
  it('predicts a loop speed-up from per-call times like a MAC ratio', () => {
    expect(callTimeSpeedup(3, 0.3, { full: 1, shallow: 2 })).toBeCloseTo(9 / 3.6, 12);
  });
});
