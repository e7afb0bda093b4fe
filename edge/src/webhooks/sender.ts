/**
 * One delivery attempt (Standard Webhooks v1): claim the attempt, re-check the endpoint (disabled by a 410?
 * still a public address?), build the payload — the prediction object with freshly presigned URLs — sign it
 * with the account's `whsec_` secret and POST it without following redirects. 2xx = delivered; 410 = the
 * endpoint is disabled for the account; anything else (3xx included), a timeout or a network error = failure,
 * retried on the schedule (or after `Retry-After` when later) until it is exhausted.
 * @module
 */
import { signWebhook } from '../../../shared/signing.js';
import type { WebhookMessage } from './queue-message.js';
import { configFrom } from '../config.js';
import { presentPrediction } from '../predictions/present.js';
import { getPredictionRow } from '../predictions/row.js';
import { claimAttempt, finishAttempt, queueAttempt, type DeliveryRow, type DeliveryStatus } from './deliveries.js';
import { disableEndpoint, isEndpointDisabled, webhookSecret } from './endpoints.js';
import { dohResolver, type HostResolver } from './resolver.js';
import { parseRetryAfter, retryDelay } from './retry.js';
import { checkWebhookUrl } from './url-guard.js';

/** How long a receiver gets to answer. */
const DELIVERY_TIMEOUT_MS = 10_000;
const USER_AGENT = 'deepcache-edge-webhooks/1';

export type AttemptOutcome = 'skipped' | Exclude<DeliveryStatus, 'sending'>;

export interface SendOptions {
  resolver?: HostResolver;
  fetcher?: typeof fetch;
  nowMs?: number;
}

/** The signed request for a delivery. */
async function buildRequest(env: Env, delivery: DeliveryRow, nowMs: number): Promise<Request> {
  const row = await getPredictionRow(env.DB, delivery.prediction_id);
  if (!row) throw new Error(`prediction ${delivery.prediction_id} of delivery ${delivery.id} is gone`);
  const body = JSON.stringify(await presentPrediction(configFrom(env), row));
  const { secret } = await webhookSecret(env.DB, delivery.account_id);
  const timestamp = Math.floor(nowMs / 1000);
  return new Request(delivery.url, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'webhook-id': delivery.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': await signWebhook(secret, delivery.id, timestamp, body),
    },
    body,
  });
}

/** Makes the attempt a queue message asks for. */
export async function attemptDelivery(env: Env, message: WebhookMessage, options: SendOptions = {}): Promise<AttemptOutcome> {
  const config = configFrom(env);
  const nowMs = options.nowMs ?? Date.now();
  const delivery = await claimAttempt(env.DB, message.delivery_id, message.attempt, nowMs);
  if (!delivery) return 'skipped';
  const startedAt = new Date(nowMs).toISOString();
  const finish = async (
    status: Exclude<DeliveryStatus, 'sending'>,
    statusCode: number | null,
    error: string | null,
    nextAttemptAt: string | null = null,
  ): Promise<AttemptOutcome> => {
    await finishAttempt(
      env.DB,
      delivery,
      { started_at: startedAt, status_code: statusCode, error, duration_ms: Date.now() - nowMs },
      { status, nextAttemptAt },
    );
    return status;
  };
  const fail = async (statusCode: number | null, error: string, retryAfterS: number | null): Promise<AttemptOutcome> => {
    const delay = message.replay ? null : retryDelay(message.attempt, config.WEBHOOK_RETRY_SCHEDULE, retryAfterS);
    if (delay === null) return finish('failed', statusCode, error);
    const outcome = await finish('pending', statusCode, error, new Date(nowMs + delay * 1000).toISOString());
    await queueAttempt(env, delivery.id, message.attempt + 1, delay);
    return outcome;
  };

  if (await isEndpointDisabled(env.DB, delivery.account_id, delivery.url))
    return finish('disabled', null, 'the endpoint was disabled after answering 410 Gone');
  const verdict = await checkWebhookUrl(delivery.url, {
    allowLoopback: config.ALLOW_LOOPBACK_WEBHOOKS,
    resolver: options.resolver ?? dohResolver(config.DOH_URL),
  });
  if (!verdict.ok) return verdict.transient ? fail(null, verdict.reason, null) : finish('refused', null, `refused: ${verdict.reason}`);

  let res: Response;
  try {
    const request = await buildRequest(env, delivery, nowMs);
    res = await (options.fetcher ?? fetch)(request, { signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS) });
  } catch (err) {
    return fail(null, `request failed: ${String(err)}`, null);
  }
  await res.body?.cancel();
  if (res.status >= 200 && res.status < 300) return finish('delivered', res.status, null);
  if (res.status === 410) {
    await disableEndpoint(env.DB, delivery.account_id, delivery.url, `410 Gone on delivery ${delivery.id}`);
    return finish('disabled', 410, 'the endpoint answered 410 Gone: deliveries to it are disabled');
  }
  const reason = res.status >= 300 && res.status < 400 ? `redirect ${res.status} (redirects are not followed)` : `HTTP ${res.status}`;
  return fail(res.status, reason, parseRetryAfter(res.headers.get('retry-after'), nowMs));
}
