/**
 * Summary statistics of the serving benchmark (pure): p50/p95 of latency samples and the overhead of the API
 * over the bare pipeline, from interleaved pairs.
 * @module
 */
import { quantile, round } from '../lib/stats.js';

/** p50/p95 (plus min, max, mean) of a list of samples, in the samples' unit. */
export interface LatencySummary {
  n: number;
  p50: number;
  p95: number;
  min: number;
  max: number;
  mean: number;
}

/**
 * Summarises samples (numpy-style linear-interpolated quantiles), rounded to `digits` decimals.
 * @throws RangeError for an empty list or a non-finite sample
 */
export function summarize(samples: readonly number[], digits = 1): LatencySummary {
  if (samples.length === 0) throw new RangeError('summary of no samples');
  if (samples.some((x) => !Number.isFinite(x))) throw new RangeError('summary of a non-finite sample');
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return {
    n: samples.length,
    p50: round(quantile(samples, 0.5), digits),
    p95: round(quantile(samples, 0.95), digits),
    min: round(Math.min(...samples), digits),
    max: round(Math.max(...samples), digits),
    mean: round(mean, digits),
  };
}

/** The API's overhead over the bare pipeline: per interleaved pair, absolute (ms) and relative (fraction of bare). */
export interface OverheadSummary {
  /** API − bare per pair, ms. */
  absolute_ms: LatencySummary;
  /** (API − bare) / bare per pair. */
  relative: LatencySummary;
  /** p50(API) − p50(bare), ms: the overhead of the typical request without pairing. */
  p50_difference_ms: number;
}

/**
 * Overhead of each API request over the bare run it was paired with (run next to it, so both saw the same
 * machine load).
 * @param bareMs bare pipeline latencies, ms
 * @param apiMs API latencies, ms, `apiMs[i]` paired with `bareMs[i]`
 * @throws RangeError when the lists differ in length, are empty, or a bare time is not positive
 */
export function pairedOverhead(bareMs: readonly number[], apiMs: readonly number[]): OverheadSummary {
  if (bareMs.length !== apiMs.length) throw new RangeError(`${bareMs.length} bare samples paired with ${apiMs.length} API samples`);
  if (bareMs.some((x) => !(x > 0))) throw new RangeError('bare pipeline times must be positive');
  const diff = apiMs.map((a, i) => a - bareMs[i]!);
  return {
    absolute_ms: summarize(diff),
    relative: summarize(
      diff.map((d, i) => d / bareMs[i]!),
      3,
    ),
    p50_difference_ms: round(quantile(apiMs, 0.5) - quantile(bareMs, 0.5), 1),
  };
}
