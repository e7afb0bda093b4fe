/**
 * Reactions to prediction state changes, run after D1 has recorded the change: billing (commit/release),
 * the channel (SSE, waits) and webhooks. Each listener runs once per real change (duplicates never reach it),
 * and billing is idempotent per prediction on top of that.
 * @module
 */
import type { PredictionStatus } from '../../../shared/prediction.js';
import { settleCredits } from '../billing/credits.js';
import { channelOf } from '../channel/prediction-channel.js';
import { enqueueWebhooks } from '../webhooks/listeners.js';
import { stopWorkListener } from '../dispatch/stop-work.js';
import type { PredictionRow } from './row.js';

/** A recorded change: the row after it, and the status it left. */
export interface StatusChange {
  from: PredictionStatus;
  row: PredictionRow;
  /** The backend reported this change itself (a callback event), so it needs no cancel. */
  reportedByBackend?: boolean;
}

export type StatusListener = (env: Env, change: StatusChange) => Promise<void>;

/** Publishes the new status to the prediction's channel (SSE subscribers, `Prefer: wait`). */
export const publishStatus: StatusListener = async (env, { row }) => {
  await channelOf(env, row.id).publish({ type: 'status', status: row.status, at: new Date().toISOString() });
};

/**
 * Listeners run, in order, on every status change: the backend is told to stop work the edge ended early, and
 * credits settle, before anyone is told the prediction ended.
 */
export const statusListeners: readonly StatusListener[] = [stopWorkListener, settleCredits, publishStatus, enqueueWebhooks];

/** Runs every listener; a failing listener is logged and does not stop the others. */
export async function notifyStatusChange(env: Env, change: StatusChange, listeners: readonly StatusListener[] = statusListeners): Promise<void> {
  for (const listener of listeners) {
    try {
      await listener(env, change);
    } catch (err) {
      console.error(JSON.stringify({ level: 'error', message: 'status listener failed', prediction_id: change.row.id, error: String(err) }));
    }
  }
}
