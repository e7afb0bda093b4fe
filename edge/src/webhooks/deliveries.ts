/**
 * Webhook deliveries in D1: one row per (prediction, event) — `logs` throttled — whose id is the Standard
 * Webhooks message id, stable across retries and replays; one `webhook_attempts` row per attempt. Attempts
 * are claimed with a conditional UPDATE, so a redelivered queue message never sends twice.
 * @module
 */
import { WebhookEvent } from '../../../shared/prediction.js';
import type { WebhookMessage } from './queue-message.js';
import { randomToken } from '../ids.js';
import type { PredictionRow } from '../predictions/row.js';

/** At most one `logs` (progress) delivery per prediction in this interval. */
const LOGS_THROTTLE_MS = 2_000;
/** A claimed attempt that has not finished after this long is considered lost (the worker died). */
const STALE_CLAIM_MS = 5 * 60_000;
/** A pending delivery whose message has not arrived this long after its due time is queued again. */
const LOST_MESSAGE_MS = 10 * 60_000;

export type DeliveryStatus = 'pending' | 'sending' | 'delivered' | 'failed' | 'disabled' | 'refused';

export interface DeliveryRow {
  id: string;
  prediction_id: string;
  account_id: string;
  event: WebhookEvent;
  url: string;
  status: DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  claimed_at: string | null;
  created_at: string;
  delivered_at: string | null;
}

export interface AttemptRow {
  delivery_id: string;
  attempt: number;
  started_at: string;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

/** Events the prediction subscribed to (all four when it gave no filter). */
function subscribedEvents(row: Pick<PredictionRow, 'webhook_events_filter'>): WebhookEvent[] {
  if (row.webhook_events_filter === null) return [...WebhookEvent.options];
  return WebhookEvent.array().parse(JSON.parse(row.webhook_events_filter));
}

/** Queues attempt `attempt` of a delivery. */
export async function queueAttempt(
  env: Pick<Env, 'WEBHOOKS'>,
  deliveryId: string,
  attempt: number,
  delaySeconds = 0,
  replay = false,
): Promise<void> {
  const message: WebhookMessage = { type: 'deliver', delivery_id: deliveryId, attempt, replay };
  await env.WEBHOOKS.send(message, { contentType: 'json', ...(delaySeconds > 0 ? { delaySeconds } : {}) });
}

/**
 * Records a delivery of `event` for the prediction and queues its first attempt. Nothing happens when the
 * prediction has no webhook, is not subscribed to the event, already has it (start, output, completed), or
 * had a `logs` delivery within the throttle interval.
 * @returns the new delivery, or null
 */
export async function createDelivery(
  env: Pick<Env, 'DB' | 'WEBHOOKS'>,
  row: PredictionRow,
  event: WebhookEvent,
  nowMs: number = Date.now(),
): Promise<DeliveryRow | null> {
  if (row.webhook === null || !subscribedEvents(row).includes(event)) return null;
  const now = new Date(nowMs).toISOString();
  const throttledSince = new Date(nowMs - LOGS_THROTTLE_MS).toISOString();
  const created = await env.DB.prepare(
    `INSERT OR IGNORE INTO webhook_deliveries (id, prediction_id, account_id, event, url, status, attempts, next_attempt_at, created_at)
     SELECT ?1, ?2, ?3, ?4, ?5, 'pending', 0, ?6, ?6
      WHERE NOT EXISTS (SELECT 1 FROM webhook_deliveries WHERE prediction_id = ?2 AND event = ?4 AND event = 'logs' AND created_at > ?7)
     RETURNING *`,
  )
    .bind(`msg_${randomToken(24, 'abcdefghijklmnopqrstuvwxyz0123456789')}`, row.id, row.account_id, event, row.webhook, now, throttledSince)
    .first<DeliveryRow>();
  if (created) await queueAttempt(env, created.id, 1);
  return created;
}

/** Claims attempt `attempt` of a delivery; null when it is not due (done, or this attempt was claimed already). */
export async function claimAttempt(
  db: D1Database,
  deliveryId: string,
  attempt: number,
  nowMs: number = Date.now(),
): Promise<DeliveryRow | null> {
  return db
    .prepare(
      `UPDATE webhook_deliveries SET status = 'sending', attempts = ?2, claimed_at = ?3
        WHERE id = ?1 AND ((status = 'pending' AND attempts = ?2 - 1) OR (status = 'sending' AND attempts = ?2 AND claimed_at <= ?4))
       RETURNING *`,
    )
    .bind(deliveryId, attempt, new Date(nowMs).toISOString(), new Date(nowMs - STALE_CLAIM_MS).toISOString())
    .first<DeliveryRow>();
}

/** Records how an attempt went and the delivery's new status. */
export async function finishAttempt(
  db: D1Database,
  delivery: Pick<DeliveryRow, 'id' | 'attempts'>,
  attempt: Omit<AttemptRow, 'delivery_id' | 'attempt'>,
  next: { status: Exclude<DeliveryStatus, 'sending'>; nextAttemptAt: string | null },
): Promise<void> {
  const deliveredAt = next.status === 'delivered' ? new Date().toISOString() : null;
  await db.batch([
    db
      .prepare(
        'INSERT OR REPLACE INTO webhook_attempts (delivery_id, attempt, started_at, status_code, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .bind(delivery.id, delivery.attempts, attempt.started_at, attempt.status_code, attempt.error, attempt.duration_ms),
    db
      .prepare(
        "UPDATE webhook_deliveries SET status = ?, last_status_code = ?, last_error = ?, next_attempt_at = ?, delivered_at = COALESCE(?, delivered_at) WHERE id = ? AND attempts = ? AND status = 'sending'",
      )
      .bind(next.status, attempt.status_code, attempt.error, next.nextAttemptAt, deliveredAt, delivery.id, delivery.attempts),
  ]);
}

/** A prediction's deliveries with their attempts, oldest first. */
export async function listDeliveries(db: D1Database, predictionId: string): Promise<(DeliveryRow & { attempt_log: AttemptRow[] })[]> {
  const [deliveries, attempts] = await db.batch([
    db.prepare('SELECT * FROM webhook_deliveries WHERE prediction_id = ? ORDER BY created_at, id').bind(predictionId),
    db
      .prepare(
        'SELECT a.* FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.prediction_id = ? ORDER BY a.delivery_id, a.attempt',
      )
      .bind(predictionId),
  ]);
  const log = (attempts?.results ?? []) as AttemptRow[];
  return ((deliveries?.results ?? []) as DeliveryRow[]).map((d) => ({ ...d, attempt_log: log.filter((a) => a.delivery_id === d.id) }));
}

/**
 * Re-sends a finished delivery now, with the same `webhook-id` (one attempt; replay again if it fails).
 * @returns the delivery, or null when it is still pending or being sent
 */
export async function replayDelivery(env: Pick<Env, 'DB' | 'WEBHOOKS'>, deliveryId: string): Promise<DeliveryRow | null> {
  const row = await env.DB.prepare(
    "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ? WHERE id = ? AND status IN ('delivered', 'failed', 'disabled', 'refused') RETURNING *",
  )
    .bind(new Date().toISOString(), deliveryId)
    .first<DeliveryRow>();
  if (row) await queueAttempt(env, row.id, row.attempts + 1, 0, true);
  return row;
}

/**
 * Queues again deliveries whose queue message was lost (pending long past their due time, or claimed by a
 * worker that died).
 * @returns how many were queued
 */
export async function requeueStalledDeliveries(env: Pick<Env, 'DB' | 'WEBHOOKS'>, nowMs: number = Date.now()): Promise<number> {
  const { results } = await env.DB.prepare(
    `SELECT id, status, attempts FROM webhook_deliveries
      WHERE (status = 'pending' AND next_attempt_at <= ?) OR (status = 'sending' AND claimed_at <= ?) LIMIT 100`,
  )
    .bind(new Date(nowMs - LOST_MESSAGE_MS).toISOString(), new Date(nowMs - STALE_CLAIM_MS).toISOString())
    .all<{ id: string; status: DeliveryStatus; attempts: number }>();
  for (const d of results) await queueAttempt(env, d.id, d.status === 'pending' ? d.attempts + 1 : d.attempts);
  return results.length;
}
