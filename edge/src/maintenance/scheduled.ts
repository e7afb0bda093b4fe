/**
 * The cron handler (`[triggers] crons` in wrangler.toml): expires Idempotency-Key records after 24 h and
 * re-queues webhook deliveries whose queue message was lost.
 * @module
 */
import { deleteExpiredKeys } from '../idempotency/store.js';
import { requeueStalledDeliveries } from '../webhooks/deliveries.js';

/** One maintenance pass. */
export async function runMaintenance(env: Env, nowMs: number = Date.now()): Promise<{ expiredKeys: number; requeuedDeliveries: number }> {
  const expiredKeys = await deleteExpiredKeys(env.DB, nowMs);
  const requeuedDeliveries = await requeueStalledDeliveries(env, nowMs);
  console.log(JSON.stringify({ level: 'info', message: 'maintenance', expired_idempotency_keys: expiredKeys, requeued_webhook_deliveries: requeuedDeliveries }));
  return { expiredKeys, requeuedDeliveries };
}
