import { describe, expect, it } from 'vitest';
import { roundHalfEven, toUint8Hwc } from './postprocess.js';

describe('toUint8Hwc', () => {
  it('maps [-1, 1] to [0, 255] with clamping, NCHW to HWC, per row', () => {
    // B=2, C=3, H=1, W=2; row 1 holds the values of interest
    const row0 = new Array(6).fill(0);
    const row1 = [-1, 1, 0, 2, -3, 0.5];
    const out = toUint8Hwc({ data: Float32Array.from([...row0, ...row1]), dims: [2, 3, 1, 2] }, 1);
    // pixel 0: (R=-1, G=0, B=-3) → (0, 128, 0); pixel 1: (R=1, G=2, B=0.5) → (255, 255, 191)
    expect(Array.from(out)).toEqual([0, 128, 0, 255, 255, 191]);
  });

  it('rounds exact halves to even like numpy', () => {
    expect([0.5, 1.5, 2.5, 126.5, 127.5, 2.4999, 2.5001].map(roundHalfEven)).toEqual([0, 2, 2, 126, 128, 2, 3]);
    // x = 0 → 0.5·255 = 127.5 → 128
    expect(toUint8Hwc({ data: Float32Array.from([0, 0, 0]), dims: [1, 3, 1, 1] }, 0)[0]).toBe(128);
  });
});
