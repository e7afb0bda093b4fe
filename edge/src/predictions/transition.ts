/**
 * The one place where prediction status changes happen. Every change is a conditional UPDATE in D1 (the
 * source of truth) that only matches rows whose current status may move to the new one (`canTransition`), so
 * a terminal state is never left and two racing changes (cancel vs completion) have exactly one winner.
 * Backend events carry (attempt, seq): events of an older attempt and repeated or older seqs are dropped, so
 * a retried callback never applies twice. A `retryable` completion (the backend handed the work back) puts the
 * job back on the model's work queue (the next lease is the next attempt) instead of ending the prediction.
 * Every recorded change runs the status listeners passed in (wired in the Worker's entry).
 * @module
 */
import type { BackendEvent, BackendMetrics, StoredImage } from '../../../shared/internal.js';
import { canTransition, PredictionStatus, type TerminalStatus } from '../../../shared/prediction.js';
import { channelOf } from '../channel/prediction-channel.js';
import { configFrom } from '../config.js';
import { enqueuePrediction } from '../fleet/enqueue.js';
import { enqueueProgressWebhook } from '../webhooks/listeners.js';
import { notifyStatusChange, type StatusListeners } from './status-change.js';
import { getPredictionRow, type PredictionRow } from './row.js';
import { edgeLogger } from '../logging.js';

export type { TerminalStatus };

/** What ended a prediction. */
export interface Ending {
  status: TerminalStatus;
  output?: StoredImage[] | null;
  error?: string | null;
  metrics?: BackendMetrics;
}

/** Only apply when the event belongs to this attempt and is newer than the last one applied. */
export interface EventGuard {
  attempt: number;
  seq: number;
}

/** Outcome of a change request. */
export type TransitionOutcome =
  | { kind: 'applied'; row: PredictionRow }
  | { kind: 'not-found' }
  | { kind: 'duplicate'; row: PredictionRow }
  | { kind: 'stale'; row: PredictionRow }
  | { kind: 'refused'; row: PredictionRow };

/** Statuses from which `to` can be reached. */
export function sourcesOf(to: PredictionStatus): PredictionStatus[] {
  return PredictionStatus.options.filter((from) => canTransition(from, to));
}

async function explainMiss(db: D1Database, id: string, guard: EventGuard | undefined): Promise<TransitionOutcome> {
  const row = await getPredictionRow(db, id);
  if (!row) return { kind: 'not-found' };
  if (guard && guard.attempt !== row.attempt) return { kind: 'stale', row };
  if (guard && guard.seq <= row.last_seq) return { kind: 'duplicate', row };
  return { kind: 'refused', row };
}

async function update(
  env: Env,
  id: string,
  set: string,
  values: unknown[],
  from: PredictionStatus[],
  guard: EventGuard | undefined,
): Promise<TransitionOutcome> {
  const guardSql = guard ? ' AND attempt = ? AND last_seq < ?' : '';
  const guardSet = guard ? ', last_seq = ?' : '';
  const sql = `UPDATE predictions SET ${set}${guardSet} WHERE id = ? AND status IN (${from.map(() => '?').join(', ')})${guardSql} RETURNING *`;
  const bound = [...values, ...(guard ? [guard.seq] : []), id, ...from, ...(guard ? [guard.attempt, guard.seq] : [])];
  const after = await env.DB.prepare(sql)
    .bind(...bound)
    .first<PredictionRow>();
  return after ? { kind: 'applied', row: after } : explainMiss(env.DB, id, guard);
}

/**
 * Ends a prediction (succeeded, failed, canceled or aborted) unless it already ended.
 * When the change is recorded the status listeners run (billing, channel, webhooks).
 */
export async function finishPrediction(
  env: Env,
  listeners: StatusListeners,
  id: string,
  ending: Ending,
  guard?: EventGuard,
): Promise<TransitionOutcome> {
  const from = sourcesOf(ending.status);
  const before = await getPredictionRow(env.DB, id);
  const outcome = await update(
    env,
    id,
    'status = ?, output_json = ?, error = ?, metrics_json = ?, completed_at = ?',
    [
      ending.status,
      ending.output ? JSON.stringify(ending.output) : null,
      ending.error ?? null,
      JSON.stringify(ending.metrics ?? {}),
      new Date().toISOString(),
    ],
    from,
    guard,
  );
  if (outcome.kind === 'applied')
    await notifyStatusChange(env, listeners, {
      from: before?.status ?? 'starting',
      row: outcome.row,
      reportedByBackend: guard !== undefined,
    });
  return outcome;
}

/** Marks a prediction as running on a backend (`starting` → `processing`; repeated starts are harmless). */
export async function markProcessing(
  env: Env,
  listeners: StatusListeners,
  id: string,
  guard: EventGuard,
  progress?: { step: number; total: number },
): Promise<TransitionOutcome> {
  const now = new Date().toISOString();
  const before = await getPredictionRow(env.DB, id);
  const outcome = await update(
    env,
    id,
    "status = 'processing', started_at = COALESCE(started_at, ?), progress_step = COALESCE(?, progress_step), progress_total = COALESCE(?, progress_total)",
    [now, progress?.step ?? null, progress?.total ?? null],
    ['starting', 'processing'],
    guard,
  );
  if (outcome.kind === 'applied' && before?.status === 'starting')
    await notifyStatusChange(env, listeners, { from: 'starting', row: outcome.row });
  return outcome;
}

/** Attempts (leases) after which a prediction that did not end is failed instead of leased again. */
export const MAX_DISPATCH_ATTEMPTS = 5;

/** The error of a prediction failed after {@link MAX_DISPATCH_ATTEMPTS}. */
export function gaveUpError(attempts: number): string {
  return `Gave up after ${attempts} dispatch attempts`;
}

/**
 * A backend handed the prediction back unfinished (`retryable` completion: it shut down or failed as a whole):
 * release it from that backend and queue it again on the model's work queue (the next lease claims the next
 * attempt). The status stays as it is and the credits stay reserved. After MAX_DISPATCH_ATTEMPTS the prediction
 * fails instead.
 */
export async function redispatchPrediction(
  env: Env,
  listeners: StatusListeners,
  id: string,
  guard: EventGuard,
  error: string | null,
): Promise<TransitionOutcome> {
  if (guard.attempt >= MAX_DISPATCH_ATTEMPTS) {
    publicError('failed', id, error);
    return finishPrediction(env, listeners, id, { status: 'failed', error: gaveUpError(guard.attempt) }, guard);
  }
  const outcome = await update(env, id, 'backend = NULL', [], ['starting', 'processing'], guard);
  if (outcome.kind === 'applied') await enqueuePrediction(env, outcome.row);
  return outcome;
}

/** The error text customers see for an ending a backend reported; the backend's own text goes to the logs only. */
export function publicError(status: TerminalStatus, predictionId: string, backendError: string | null | undefined): string | null {
  if (backendError) edgeLogger.warn('backend error', { prediction_id: predictionId, status, error: backendError });
  switch (status) {
    case 'succeeded':
      return null;
    case 'failed':
      return 'The generation failed on the GPU backend';
    case 'aborted':
      return 'Cancel-After deadline passed';
    case 'canceled':
      return null;
  }
}

/** Whether every output key lies under the prediction's own prefix `<S3_PREFIX>/<id>/` (no `..`, no other prediction). */
export function outputsBelongTo(output: readonly StoredImage[] | null, prefix: string, predictionId: string): boolean {
  const own = `${prefix}/${predictionId}/`;
  return (output ?? []).every(
    (o) =>
      o.key.startsWith(own) &&
      !o.key
        .slice(own.length)
        .split('/')
        .some((seg) => seg === '' || seg === '.' || seg === '..'),
  );
}

/** Applies one backend callback event. */
export async function applyBackendEvent(env: Env, listeners: StatusListeners, event: BackendEvent): Promise<TransitionOutcome> {
  const guard = { attempt: event.attempt, seq: event.seq };
  switch (event.type) {
    case 'started':
      return markProcessing(env, listeners, event.prediction_id, guard);
    case 'progress': {
      const outcome = await markProcessing(env, listeners, event.prediction_id, guard, { step: event.step, total: event.total });
      if (outcome.kind === 'applied') {
        await channelOf(env, event.prediction_id).publish({ type: 'progress', step: event.step, total: event.total });
        await enqueueProgressWebhook(env, outcome.row).catch((err: unknown) => {
          edgeLogger.error('logs webhook not queued', { prediction_id: event.prediction_id, error: String(err) });
        });
      }
      return outcome;
    }
    case 'completed': {
      if (event.retryable && event.status !== 'succeeded')
        return redispatchPrediction(env, listeners, event.prediction_id, guard, event.error);
      if (!outputsBelongTo(event.output, configFrom(env).S3_PREFIX, event.prediction_id)) {
        // Never presign objects outside the prediction's prefix (another customer's images, anything in the bucket).
        edgeLogger.error('backend reported outputs outside the prediction prefix', {
          prediction_id: event.prediction_id,
          keys: event.output?.map((o) => o.key),
        });
        return finishPrediction(
          env,
          listeners,
          event.prediction_id,
          { status: 'failed', output: null, error: publicError('failed', event.prediction_id, null), metrics: event.metrics },
          guard,
        );
      }
      return finishPrediction(
        env,
        listeners,
        event.prediction_id,
        {
          status: event.status,
          output: event.output,
          error: publicError(event.status, event.prediction_id, event.error),
          metrics: event.metrics,
        },
        guard,
      );
    }
  }
}
