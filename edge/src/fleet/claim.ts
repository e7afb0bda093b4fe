/**
 * Turning jobs taken from a work queue into leased `BackendJob`s: each one's next attempt is claimed in D1
 * (`attempt + 1`, `backend` = the worker, `last_seq = -1`, while the prediction is `starting`/`processing`), and
 * the attempt is bound to the lease in the queue. A prediction that ended meanwhile is dropped from the queue;
 * one whose Cancel-After deadline passed is aborted; one that has used MAX_DISPATCH_ATTEMPTS fails (its credits
 * are released by the billing listener). Events of an older attempt stay ignored by the transition guard.
 * @module
 */
import type { BackendJob } from '../../../shared/internal.js';
import { isTerminal, type ResolvedInput } from '../../../shared/prediction.js';
import { configFrom } from '../config.js';
import { abortAtDeadline } from '../predictions/deadline.js';
import { getPredictionRow, type PredictionRow } from '../predictions/row.js';
import type { StatusListeners } from '../predictions/status-change.js';
import { finishPrediction, gaveUpError, MAX_DISPATCH_ATTEMPTS } from '../predictions/transition.js';
import type { TakenJob, WorkQueue } from './work-queue.js';
import { edgeLogger } from '../logging.js';

/** A job claimed for a worker, with its lease expiry. */
export interface ClaimedJob {
  job: BackendJob;
  expiresAtMs: number;
}

/** The job a backend runs for `row` at `attempt`. */
export function backendJobOf(row: PredictionRow, attempt: number, env: Env): BackendJob {
  const config = configFrom(env);
  return {
    id: row.id,
    model: row.model,
    input: JSON.parse(row.resolved_json) as ResolvedInput,
    attempt,
    output_prefix: config.S3_PREFIX,
    callback_url: `${config.PUBLIC_BASE_URL}/internal/predictions/${row.id}/events`,
    ...(row.deadline === null ? {} : { deadline: row.deadline }),
    progress_events: true,
  };
}

/**
 * Claims the next attempt of one taken job for `workerId` in D1.
 * @returns the attempt, or null when the job must not run (it was dropped, aborted or failed here)
 */
async function claimAttempt(
  env: Env,
  listeners: StatusListeners,
  queue: DurableObjectStub<WorkQueue>,
  workerId: string,
  predictionId: string,
  nowMs: number,
): Promise<{ row: PredictionRow; attempt: number } | null> {
  const row = await getPredictionRow(env.DB, predictionId);
  if (!row || isTerminal(row.status)) {
    await queue.drop(predictionId);
    return null;
  }
  if (row.deadline !== null && Date.parse(row.deadline) <= nowMs) {
    await abortAtDeadline(env, listeners, row.id);
    await queue.drop(predictionId);
    return null;
  }
  if (row.attempt >= MAX_DISPATCH_ATTEMPTS) {
    await finishPrediction(env, listeners, row.id, { status: 'failed', error: gaveUpError(row.attempt) });
    await queue.drop(predictionId);
    return null;
  }
  const claimed = await env.DB.prepare(
    "UPDATE predictions SET attempt = attempt + 1, backend = ?, last_seq = -1 WHERE id = ? AND attempt = ? AND status IN ('starting', 'processing') RETURNING attempt",
  )
    .bind(workerId, row.id, row.attempt)
    .first<{ attempt: number }>();
  if (!claimed) {
    // It ended (or changed) between the read and the claim: leave it to the listener, or to the reaper.
    await queue.drop(predictionId);
    return null;
  }
  return { row, attempt: claimed.attempt };
}

/**
 * Claims every taken job for `workerId` and binds the attempts in the queue. A D1 failure part way hands the
 * unclaimed jobs back to the queue at once and is rethrown when nothing was claimed.
 */
export async function claimTakenJobs(
  env: Env,
  listeners: StatusListeners,
  queue: DurableObjectStub<WorkQueue>,
  workerId: string,
  taken: TakenJob[],
): Promise<ClaimedJob[]> {
  const claimed: Array<{ job: BackendJob }> = [];
  const nowMs = Date.now();
  for (const [index, { predictionId }] of taken.entries()) {
    try {
      const result = await claimAttempt(env, listeners, queue, workerId, predictionId, nowMs);
      if (result) claimed.push({ job: backendJobOf(result.row, result.attempt, env) });
    } catch (err) {
      const rest = taken.slice(index).map((t) => t.predictionId);
      await queue.unlease(workerId, rest);
      edgeLogger.error('lease claim failed; jobs queued again', { worker_id: workerId, prediction_ids: rest, error: String(err) });
      if (claimed.length === 0) throw err;
      break;
    }
  }
  if (claimed.length === 0) return [];
  const expiries = await queue.bind(
    workerId,
    claimed.map(({ job }) => ({ predictionId: job.id, attempt: job.attempt })),
  );
  return claimed.flatMap(({ job }, i) => {
    const expiresAtMs = expiries[i];
    return expiresAtMs === null || expiresAtMs === undefined ? [] : [{ job, expiresAtMs }];
  });
}
