/**
 * Test helpers for the synthetic models: summary statistics of their outputs.
 * @module
 */

/** Mean and standard deviation; NaN when any value is not finite. */
export function meanStd(values: ArrayLike<number>): { mean: number; std: number } {
  let s = 0,
    s2 = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) return { mean: Number.NaN, std: Number.NaN };
    s += v;
    s2 += v * v;
  }
  const mean = s / values.length;
  return { mean, std: Math.sqrt(Math.max(0, s2 / values.length - mean * mean)) };
}
