/**
 * Numeric comparison helpers for parity tests: max |a−b| and the fixtures' tolerance rule
 * `max|a−b| <= rel·max|ref| + abs`.
 * @module
 */

/** Largest absolute value (NaN if any value is NaN). */
export function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) {
    const v = Math.abs(values[i]!);
    if (Number.isNaN(v)) return Number.NaN;
    if (v > m) m = v;
  }
  return m;
}

/**
 * max |a[i] − b[i]| (NaN if any difference is NaN).
 * @throws RangeError when the lengths differ
 */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`length mismatch: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (Number.isNaN(d)) return Number.NaN;
    if (d > m) m = d;
  }
  return m;
}

/** Tolerance of {@link compareToReference}: defaults rel 1e-4, abs 1e-5 (the fixtures' single-forward rule). */
export interface ToleranceOptions {
  readonly rel?: number;
  readonly abs?: number;
}

/** Result of {@link compareToReference}. */
export interface Comparison {
  readonly ok: boolean;
  readonly maxDiff: number;
  readonly bound: number;
  readonly maxRef: number;
}

/** Checks `max|actual − ref| <= rel·max|ref| + abs`. */
export function compareToReference(actual: ArrayLike<number>, ref: ArrayLike<number>, options: ToleranceOptions = {}): Comparison {
  const maxRef = maxAbs(ref);
  const bound = (options.rel ?? 1e-4) * maxRef + (options.abs ?? 1e-5);
  const maxDiff = maxAbsDiff(actual, ref);
  return { ok: maxDiff <= bound, maxDiff, bound, maxRef };
}
