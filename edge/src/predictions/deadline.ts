/**
 * Cancel-After at the edge: the backend aborts a prediction that runs past its deadline itself; if no terminal
 * event has arrived a short grace period after the deadline (backend gone, job stuck in the queue), the edge
 * aborts it here and tells the backend, so the prediction always ends.
 * @module
 */
import { finishPrediction, type TransitionOutcome } from './transition.js';

/** Time the backend gets after the deadline to report the abort itself. */
export const DEADLINE_GRACE_MS = 15_000;

/** Aborts the prediction if it has not ended (no-op otherwise); the stop-work listener tells its backend. */
export async function abortAtDeadline(env: Env, predictionId: string): Promise<TransitionOutcome> {
  return finishPrediction(env, predictionId, { status: 'aborted', error: 'Cancel-After deadline passed' });
}
