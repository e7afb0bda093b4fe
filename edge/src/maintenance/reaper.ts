/**
 * The fleet reaper (every minute, `* * * * *`): nothing stays `starting`/`processing` for good.
 * 1. Cancel-After backstop: a prediction still unfinished {@link DEADLINE_GRACE_MS} after its deadline is
 *    aborted (the work-queue listener then signals `abort` to a backend still holding it).
 * 2. Lost jobs: a prediction unfinished for longer than {@link REAP_GRACE_MS} that its model's work queue
 *    neither queues nor leases (the edge died between the D1 insert and the enqueue, a queue lost its state)
 *    is queued again; it fails instead when its attempts are used up or its model is no longer served.
 * @module
 */
import { configFrom } from '../config.js';
import { enqueuePrediction } from '../fleet/enqueue.js';
import { workQueueOf } from '../fleet/work-queue.js';
import { abortAtDeadline, DEADLINE_GRACE_MS } from '../predictions/deadline.js';
import type { StatusListeners } from '../predictions/status-change.js';
import { finishPrediction, gaveUpError, MAX_DISPATCH_ATTEMPTS } from '../predictions/transition.js';
import { edgeLogger } from '../logging.js';

/** Age before an unfinished prediction missing from its queue counts as lost (the accept path enqueues well within it). */
export const REAP_GRACE_MS = 60_000;

/** Predictions looked at per pass (the next pass takes the rest). */
const REAP_BATCH = 500;

/** What one pass did. */
export interface ReapResult {
  aborted: number;
  requeued: number;
  failed: number;
}

interface UnfinishedRow {
  id: string;
  account_id: string;
  model: string;
  attempt: number;
  deadline: string | null;
}

/** One reaper pass at `nowMs`. */
export async function reapPredictions(env: Env, listeners: StatusListeners, nowMs: number = Date.now()): Promise<ReapResult> {
  const result: ReapResult = { aborted: 0, requeued: 0, failed: 0 };
  const { results: overdue } = await env.DB.prepare(
    "SELECT id FROM predictions WHERE status IN ('starting', 'processing') AND deadline IS NOT NULL AND deadline < ? LIMIT ?",
  )
    .bind(new Date(nowMs - DEADLINE_GRACE_MS).toISOString(), REAP_BATCH)
    .all<{ id: string }>();
  for (const { id } of overdue) {
    if ((await abortAtDeadline(env, listeners, id)).kind === 'applied') result.aborted++;
  }

  const { results: unfinished } = await env.DB.prepare(
    "SELECT id, account_id, model, attempt, deadline FROM predictions WHERE status IN ('starting', 'processing') AND created_at < ? ORDER BY created_at LIMIT ?",
  )
    .bind(new Date(nowMs - REAP_GRACE_MS).toISOString(), REAP_BATCH)
    .all<UnfinishedRow>();
  const served = configFrom(env).SERVED_MODELS;
  const byModel = new Map<string, UnfinishedRow[]>();
  for (const row of unfinished) byModel.set(row.model, [...(byModel.get(row.model) ?? []), row]);
  for (const [model, rows] of byModel) {
    if (!served.includes(model)) {
      for (const row of rows) {
        if (
          (await finishPrediction(env, listeners, row.id, { status: 'failed', error: 'The model is no longer served' })).kind === 'applied'
        )
          result.failed++;
      }
      continue;
    }
    const held = new Set(await workQueueOf(env, model).holding(rows.map((r) => r.id)));
    for (const row of rows.filter((r) => !held.has(r.id))) {
      if (row.attempt >= MAX_DISPATCH_ATTEMPTS) {
        if ((await finishPrediction(env, listeners, row.id, { status: 'failed', error: gaveUpError(row.attempt) })).kind === 'applied')
          result.failed++;
      } else if (await enqueuePrediction(env, row)) {
        result.requeued++;
      }
    }
  }
  if (result.aborted + result.requeued + result.failed > 0) {
    edgeLogger.warn('reaper', { aborted: result.aborted, requeued: result.requeued, failed: result.failed });
  }
  return result;
}
