/**
 * Stopping the GPU work of a prediction the edge ended early (cancel, OpenAI wait timeout, Cancel-After abort,
 * any failure decided at the edge). Every such ending runs {@link stopWorkListener} after D1 recorded it; the
 * dispatch consumer calls {@link stopBackendWork} itself when a backend accepted a job whose prediction ended
 * between the claim and the PUT (so that race loses no cancel). A cancel the backend does not receive is put
 * on the `jobs` queue as a `cancel` message and sent again with backoff.
 * @module
 */
import { z } from 'zod';
import { PredictionId } from '../../../shared/internal.js';
import { isTerminal } from '../../../shared/prediction.js';
import { configFrom } from '../config.js';
import type { StatusListener } from '../predictions/listeners.js';
import { sendCancel } from './send-job.js';

/** A cancel to send (again) to the backend that holds a prediction. */
export const CancelMessage = z.strictObject({
  type: z.literal('cancel'),
  prediction_id: PredictionId,
  backend: z.url(),
  tries: z.number().int().min(1),
});
export type CancelMessage = z.infer<typeof CancelMessage>;

/** Sends of a cancel before it is given up (the backend's own deadline and the watchdog remain). */
export const MAX_CANCEL_TRIES = 6;

/** Delay before cancel try `tries + 1`: 2, 4, 8 … s. */
function cancelDelaySeconds(tries: number): number {
  return Math.min(60, 2 ** tries);
}

/**
 * Tells `backend` to stop the prediction; when it cannot be reached, queues a retry.
 * @returns whether the backend answered (it stopped the work, or it does not hold it)
 */
export async function stopBackendWork(env: Env, predictionId: string, backend: string, tries = 1): Promise<boolean> {
  const outcome = await sendCancel(backend, configFrom(env).INTERNAL_SECRET, predictionId);
  if (outcome !== 'unreachable') return true;
  if (tries >= MAX_CANCEL_TRIES) {
    console.error(JSON.stringify({ level: 'error', message: 'cancel never reached the backend', prediction_id: predictionId, tries }));
    return false;
  }
  const message: CancelMessage = { type: 'cancel', prediction_id: predictionId, backend, tries: tries + 1 };
  await env.JOBS.send(message, { contentType: 'json', delaySeconds: cancelDelaySeconds(tries) });
  return false;
}

/** Handles a queued `cancel` message. */
export async function retryCancel(env: Env, message: CancelMessage): Promise<void> {
  await stopBackendWork(env, message.prediction_id, message.backend, message.tries);
}

/**
 * Status listener: a prediction that ended at the edge in any state but `succeeded` while a backend holds it
 * has that backend told to stop. Endings the backend reported itself need no cancel.
 */
export const stopWorkListener: StatusListener = async (env, { row, reportedByBackend }) => {
  if (reportedByBackend || !isTerminal(row.status) || row.status === 'succeeded' || row.backend === null) return;
  await stopBackendWork(env, row.id, row.backend);
};
