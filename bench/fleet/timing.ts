/**
 * Pure figures of the fleet benchmark, from the timestamps the API reports on each prediction: the dispatch
 * overhead (`started_at − created_at`: accepted by the edge until a backend reported it running) and the
 * throughput of a batch (images delivered per minute between the first create and the last completion).
 * @module
 */
import { round } from '../lib/stats.js';

/** The timestamps and outcome of one prediction as `GET /v1/predictions/:id` reports them. */
export interface TimedPrediction {
  id: string;
  status: string;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  /** Output URLs (one per delivered image). */
  output: string[] | null;
}

/**
 * Milliseconds from the edge accepting the prediction to a backend reporting it started.
 * @throws RangeError when the prediction never started or a timestamp is not a date
 */
export function startDelayMs(p: TimedPrediction): number {
  if (p.started_at === null) throw new RangeError(`prediction ${p.id} never started (status ${p.status})`);
  const ms = Date.parse(p.started_at) - Date.parse(p.created_at);
  if (!Number.isFinite(ms)) throw new RangeError(`prediction ${p.id} has a timestamp that is not a date`);
  return ms;
}

/** Images delivered by a batch of predictions and the rate they were delivered at. */
export interface Throughput {
  predictions: number;
  images: number;
  /** From the first `created_at` to the last `completed_at`, seconds. */
  window_s: number;
  images_per_minute: number;
}

/**
 * Throughput of a batch submitted together: succeeded images over the span from the first create to the last
 * completion (every prediction must have ended).
 * @throws RangeError for an empty batch, a prediction without `completed_at`, or a zero-length window
 */
export function batchThroughput(batch: readonly TimedPrediction[]): Throughput {
  if (batch.length === 0) throw new RangeError('throughput of no predictions');
  const open = batch.find((p) => p.completed_at === null);
  if (open) throw new RangeError(`prediction ${open.id} has not ended`);
  const first = Math.min(...batch.map((p) => Date.parse(p.created_at)));
  const last = Math.max(...batch.map((p) => Date.parse(p.completed_at!)));
  const windowS = (last - first) / 1000;
  if (!(windowS > 0)) throw new RangeError('the batch ended in no time');
  const images = batch.filter((p) => p.status === 'succeeded').reduce((n, p) => n + (p.output?.length ?? 0), 0);
  return { predictions: batch.length, images, window_s: round(windowS, 2), images_per_minute: round((images / windowS) * 60, 2) };
}

/**
 * Each value divided by the first one (same run only: ratios between runs mix machine states).
 * @throws RangeError for an empty list or a first value that is not positive
 */
export function ratiosToFirst(values: readonly number[]): number[] {
  const base = values[0];
  if (base === undefined || !(base > 0)) throw new RangeError('ratios need a positive first value');
  return values.map((v) => round(v / base, 2));
}
