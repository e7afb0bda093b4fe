import { describe, expect, it } from 'vitest';
import { applyGuidance, concatRows, sliceRows } from './guidance.js';

describe('applyGuidance', () => {
  it('combines uncond and cond rows with a scale per request', () => {
    // B = 2 requests, 2 values per row: rows [u0, u1, c0, c1]
    const out = { data: Float32Array.from([0, 1, 10, 10, 2, 3, 20, 30]), dims: [4, 2] };
    const g = applyGuidance(out, [1.5, 0]);
    expect(g.dims).toEqual([2, 2]);
    expect(Array.from(g.data)).toEqual([3, 4, 10, 10]);
  });

  it('rejects a batch that is not twice the number of scales', () => {
    expect(() => applyGuidance({ data: new Float32Array(6), dims: [3, 2] }, [1])).toThrow(RangeError);
  });
});

describe('concatRows / sliceRows', () => {
  it('stacks along the row axis and slices back without copying', () => {
    const a = { data: Float32Array.from([1, 2]), dims: [1, 2] };
    const b = { data: Float32Array.from([3, 4, 5, 6]), dims: [2, 2] };
    const c = concatRows([a, b]);
    expect(c.dims).toEqual([3, 2]);
    const s = sliceRows(c, 1, 3);
    expect(Array.from(s.data)).toEqual([3, 4, 5, 6]);
    expect(s.data.buffer).toBe(c.data.buffer);
  });

  it('refuses tensors whose trailing dims differ', () => {
    expect(() =>
      concatRows([
        { data: new Float32Array(2), dims: [1, 2] },
        { data: new Float32Array(3), dims: [1, 3] },
      ]),
    ).toThrow(RangeError);
  });
});
