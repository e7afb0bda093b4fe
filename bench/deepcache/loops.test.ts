import { describe, expect, it } from 'vitest';
import { fastestRun, rotated, type LoopRun } from './loops.js';

const run = (loopMs: number, e2eMs: number): LoopRun => ({
  label: 'x',
  loopMs,
  e2eMs,
  e2eCpuMs: e2eMs * 2,
  encodeMs: 1,
  decodeMs: e2eMs - loopMs - 1,
  fullSteps: 3,
  shallowSteps: 8,
});

describe('fastestRun', () => {
  it('keeps the minimum of each timing across repeats', () => {
    const r = fastestRun([run(30, 40), run(20, 45)]);
    expect(r).toMatchObject({ loopMs: 20, e2eMs: 40, e2eCpuMs: 80, fullSteps: 3 });
  });
  it('refuses no runs', () => {
    expect(() => fastestRun([])).toThrow(RangeError);
  });
});

describe('rotated', () => {
  it('starts round r at item r (mod length)', () => {
    expect(rotated(['a', 'b', 'c'], 0)).toEqual(['a', 'b', 'c']);
    expect(rotated(['a', 'b', 'c'], 4)).toEqual(['b', 'c', 'a']);
    expect(rotated([], 2)).toEqual([]);
  });
});
