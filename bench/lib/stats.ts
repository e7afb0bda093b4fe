/**
 * Summary statistics of timing samples (pure).
 * @module
 */

/**
 * Median of the samples (mean of the two middle values for an even count).
 * @throws RangeError for an empty list
 */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new RangeError('median of no samples');
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Quantile q ∈ [0, 1] with linear interpolation between order statistics (numpy's default).
 * @throws RangeError for an empty list or q outside [0, 1]
 */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) throw new RangeError('quantile of no samples');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile ${q} outside [0, 1]`);
  const s = [...samples].sort((a, b) => a - b);
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** Relative spread (max − min) / median: a quick noise indicator for a handful of samples. */
export function relativeSpread(samples: readonly number[]): number {
  return (Math.max(...samples) - Math.min(...samples)) / median(samples);
}

/** Rounds to `digits` decimals (for JSON output). */
export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
