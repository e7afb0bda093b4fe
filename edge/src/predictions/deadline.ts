/**
 * Cancel-After, enforced in three places only (docs/fleet.md):
 * 1. the backend aborts a job at its `deadline` (it is in the `BackendJob`), between steps or before starting;
 * 2. the work queue's heartbeat answers `abort` for a lease whose deadline passed (a backend that missed it);
 * 3. the edge backstop here, run by the every-minute reaper: a prediction still unfinished a grace period
 *    after its deadline is aborted in D1, and the work-queue listener stops whatever still holds it.
 * The lease route also never hands out a job whose deadline already passed; it aborts it with this function.
 * @module
 */
import type { StatusListeners } from './status-change.js';
import { finishPrediction, type TransitionOutcome } from './transition.js';

/** Time the backend gets after the deadline to report the abort itself. */
export const DEADLINE_GRACE_MS = 15_000;

/** Aborts the prediction if it has not ended (no-op otherwise). */
export async function abortAtDeadline(env: Env, listeners: StatusListeners, predictionId: string): Promise<TransitionOutcome> {
  return finishPrediction(env, listeners, predictionId, { status: 'aborted', error: 'Cancel-After deadline passed' });
}
