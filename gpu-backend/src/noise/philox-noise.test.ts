import { describe, expect, it } from 'vitest';
import { philox4x32_10 } from './philox.js';
import { PhiloxNoiseSource, randnRows, RowNoiseSource, rowNoiseFromSeeds } from './philox-noise.js';

/** Normal j of (seed, stream) written out from the documented definition, one block at a time. */
function normalFromDefinition(seed: number, j: number): number {
  const b = Math.floor(j / 2);
  const x = philox4x32_10([b, 0, 0, 0], [seed, 0]);
  const u1 = 1 - ((x[0]! >>> 5) * 2 ** 26 + (x[1]! >>> 6)) / 2 ** 53;
  const u2 = ((x[2]! >>> 5) * 2 ** 26 + (x[3]! >>> 6)) / 2 ** 53;
  const r = Math.sqrt(-2 * Math.log(u1));
  return Math.fround(j % 2 === 0 ? r * Math.cos(2 * Math.PI * u2) : r * Math.sin(2 * Math.PI * u2));
}

describe('PhiloxNoiseSource', () => {
  it('draws the values the documented Philox + Box-Muller definition gives', () => {
    const got = new PhiloxNoiseSource(1234).randn([257]).data;
    for (let j = 0; j < got.length; j++) expect(got[j]).toBe(normalFromDefinition(1234, j));
  });

  it('keeps the first values pinned (cross-checked with an independent Python implementation)', () => {
    expect(Array.from(new PhiloxNoiseSource(0).randn([4]).data)).toEqual([
      -0.09047304838895798, -1.0051318407058716, -0.9238336086273193, -2.512953758239746,
    ]);
    expect(Array.from(new PhiloxNoiseSource(42).randn([4]).data)).toEqual([
      1.2345417737960815, 0.6118499040603638, -2.9550533294677734, -0.25885656476020813,
    ]);
    expect(Array.from(new PhiloxNoiseSource(0xffffffff).randn([2]).data)).toEqual([0.43874454498291016, -2.5103416442871094]);
  });

  it('gives the same values for the same seed and different values for different seeds', () => {
    const a = new PhiloxNoiseSource(7).randn([1, 4, 8, 8]).data;
    const b = new PhiloxNoiseSource(7).randn([1, 4, 8, 8]).data;
    const c = new PhiloxNoiseSource(8).randn([1, 4, 8, 8]).data;
    const d = new PhiloxNoiseSource(7, 1).randn([1, 4, 8, 8]).data;
    expect(b).toEqual(a);
    expect(c.some((v, i) => v !== a[i])).toBe(true);
    expect(d.some((v, i) => v !== a[i])).toBe(true);
  });

  it('draws the same sequence however the draws are split into calls', () => {
    const whole = new PhiloxNoiseSource(99).randn([11]).data;
    const src = new PhiloxNoiseSource(99);
    const parts = [...src.randn([3]).data, ...src.randn([1]).data, ...src.randn([7]).data];
    expect(parts).toEqual(Array.from(whole));
    expect(src.position).toBe(11);
  });

  it('has mean 0 and standard deviation 1 within 5 standard errors over 1e6 samples', () => {
    const n = 1_000_000;
    const x = new PhiloxNoiseSource(2024).randn([n]).data;
    let sum = 0;
    let sumSq = 0;
    for (const v of x) {
      sum += v;
      sumSq += v * v;
    }
    const mean = sum / n;
    const std = Math.sqrt(sumSq / n - mean * mean);
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(n)); // SE(mean) = 1/√n
    expect(Math.abs(std - 1)).toBeLessThan(5 / Math.sqrt(2 * n)); // SE(std) ≈ 1/√(2n) for a normal
  });

  it('rejects seeds that are not uint32', () => {
    expect(() => new PhiloxNoiseSource(-1)).toThrow(RangeError);
    expect(() => new PhiloxNoiseSource(2 ** 32)).toThrow(RangeError);
    expect(() => new PhiloxNoiseSource(1.5)).toThrow(RangeError);
  });
});

describe('randnRows / RowNoiseSource', () => {
  it('gives each request in a batch exactly the latents it gets alone', () => {
    const rowDims = [4, 8, 8];
    const batch = randnRows([11, 22, 33], rowDims);
    expect(batch.dims).toEqual([3, 4, 8, 8]);
    const per = 4 * 8 * 8;
    for (const [r, seed] of [11, 22, 33].entries()) {
      const alone = randnRows([seed], rowDims).data;
      expect(batch.data.subarray(r * per, (r + 1) * per)).toEqual(alone);
    }
  });

  it('continues every row stream independently across draws', () => {
    const batch = rowNoiseFromSeeds([5, 6]);
    batch.randn([2, 3]);
    const second = batch.randn([2, 3]).data;
    const alone = new PhiloxNoiseSource(6);
    alone.randn([3]);
    expect(second.subarray(3, 6)).toEqual(alone.randn([3]).data);
  });

  it('throws when the leading dim is not the number of row streams', () => {
    expect(() => new RowNoiseSource([new PhiloxNoiseSource(1)]).randn([2, 3])).toThrow(RangeError);
  });
});
