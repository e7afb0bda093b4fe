/**
 * Putting a prediction on its model's work queue (accept, a backend handing work back, the reaper).
 * @module
 */
import type { PredictionRow } from '../predictions/row.js';
import { workQueueOf } from './work-queue.js';

/** Queues `row`'s job on its model's work queue; returns whether it was queued now (false: it already waited). */
export async function enqueuePrediction(env: Env, row: Pick<PredictionRow, 'id' | 'account_id' | 'model' | 'deadline'>): Promise<boolean> {
  return workQueueOf(env, row.model).enqueue({
    predictionId: row.id,
    accountId: row.account_id,
    deadlineMs: row.deadline === null ? null : Date.parse(row.deadline),
  });
}
