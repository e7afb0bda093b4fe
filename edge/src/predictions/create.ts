/**
 * The create flow shared by `POST /v1/predictions` and Replicate's `POST /v1/models/{owner}/{name}/predictions`:
 * `Cancel-After` → accept → `Prefer: wait` → the prediction object with `Location` / `Preference-Applied`.
 * @module
 */
import { isTerminal, type CreatePredictionRequest, type Prediction } from '../../../shared/prediction.js';
import type { Caller } from '../app-env.js';
import { configFrom } from '../config.js';
import type { IdempotencyClaim } from '../idempotency/store.js';
import { acceptPrediction, predictionOfKey } from './accept.js';
import { parseCancelAfter, parsePreferWait } from './headers.js';
import type { StatusListeners } from './status-change.js';
import { presentPrediction } from './present.js';
import { waitForPrediction } from './wait.js';

export interface CreateHeaders {
  prefer?: string | undefined;
  'cancel-after'?: string | undefined;
}

/** What the idempotency middleware found for this request's `Idempotency-Key` (both absent without a key). */
export interface CreateIdempotency {
  /** The key already created this prediction: answer with it, create nothing. */
  existing?: string | undefined;
  /** The key is held by this request: the prediction it creates is linked to it in the same transaction. */
  claim?: IdempotencyClaim | undefined;
}

export interface Created {
  /** 201 when the prediction ended within the wait, else 202. */
  status: 201 | 202;
  prediction: Prediction;
  headers: Record<string, string>;
}

/**
 * Accepts `request` and waits as `Prefer` asks.
 * @param replicate Replicate's convention for a wait that ran out: the unfinished prediction is reported as
 *   `starting` (its official client keeps polling only for that status; `GET` shows the real one).
 */
export async function createPrediction(
  env: Env,
  listeners: StatusListeners,
  caller: Caller,
  request: CreatePredictionRequest,
  headers: CreateHeaders,
  replicate: boolean,
  idempotency: CreateIdempotency = {},
): Promise<Created> {
  const wait = parsePreferWait(headers.prefer);
  const cancelAfter = parseCancelAfter(headers['cancel-after']);
  const deadline = cancelAfter === undefined ? undefined : new Date(Date.now() + cancelAfter * 1000).toISOString();
  const accepted =
    idempotency.existing !== undefined
      ? await predictionOfKey(env, caller, idempotency.existing)
      : await acceptPrediction(env, caller, request, {
          listeners,
          ...(deadline === undefined ? {} : { deadline }),
          idempotency: idempotency.claim,
        });
  const row = await waitForPrediction(env, accepted, wait);
  const prediction = await presentPrediction(configFrom(env), row);
  const responseHeaders: Record<string, string> = { location: prediction.urls.get };
  if (wait > 0) responseHeaders['preference-applied'] = `wait=${wait}`;
  if (isTerminal(row.status)) return { status: 201, prediction, headers: responseHeaders };
  return { status: 202, prediction: replicate && wait > 0 ? { ...prediction, status: 'starting' } : prediction, headers: responseHeaders };
}
