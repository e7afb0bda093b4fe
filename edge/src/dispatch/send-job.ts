/**
 * Sending one job to one backend: signed `PUT /predictions/:id` with a `BackendJob`.
 * @module
 */
import { BackendPredictionState, type BackendJob } from '../../../shared/internal.js';
import { signInternalRequest } from '../../../shared/signing.js';

const PUT_TIMEOUT_MS = 10_000;

/** How a backend answered. `retryable` failures (409 queue full, 5xx, no answer) send the job elsewhere. */
export type SendOutcome =
  | { kind: 'accepted'; state: BackendPredictionState }
  | { kind: 'retryable'; reason: string }
  | { kind: 'rejected'; reason: string };

/** PUTs the job; never throws for network or HTTP failures. */
export async function sendJob(baseUrl: string, secret: string, job: BackendJob): Promise<SendOutcome> {
  const path = `/predictions/${encodeURIComponent(job.id)}`;
  const body = JSON.stringify(job);
  let res: Response;
  try {
    const headers = await signInternalRequest(secret, 'PUT', path, body);
    res = await fetch(`${baseUrl}${path}`, {
      method: 'PUT',
      headers: { ...headers, 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(PUT_TIMEOUT_MS),
    });
  } catch (err) {
    return { kind: 'retryable', reason: `${baseUrl} did not answer: ${String(err)}` };
  }
  if (res.status === 409 || res.status >= 500) {
    await res.body?.cancel();
    return { kind: 'retryable', reason: `${baseUrl} answered ${res.status}` };
  }
  if (!res.ok) return { kind: 'rejected', reason: `${baseUrl} answered ${res.status}: ${(await res.text()).slice(0, 300)}` };
  const parsed = BackendPredictionState.safeParse(await res.json().catch(() => null));
  if (!parsed.success) return { kind: 'retryable', reason: `${baseUrl} answered an unreadable state` };
  return { kind: 'accepted', state: parsed.data };
}

/** How a cancel went: the backend stopped (or had already ended) the work, does not hold it, or did not answer. */
export type CancelOutcome = 'stopped' | 'unknown' | 'unreachable';

const CANCEL_TIMEOUT_MS = 5_000;

/** Asks a backend to cancel a prediction (the edge has already recorded the cancel); never throws. */
export async function sendCancel(baseUrl: string, secret: string, id: string): Promise<CancelOutcome> {
  const path = `/predictions/${encodeURIComponent(id)}/cancel`;
  try {
    const headers = await signInternalRequest(secret, 'POST', path, '');
    const res = await fetch(`${baseUrl}${path}`, { method: 'POST', headers, signal: AbortSignal.timeout(CANCEL_TIMEOUT_MS) });
    await res.body?.cancel();
    if (res.ok) return 'stopped';
    return res.status === 404 ? 'unknown' : 'unreachable';
  } catch {
    return 'unreachable';
  }
}
