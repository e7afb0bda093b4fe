/**
 * The cron handler (`[triggers] crons` in wrangler.toml): expires Idempotency-Key records after 24 h,
 * re-queues webhook deliveries whose queue message was lost, and settles credit holds of ended predictions
 * whose settlement did not happen when they ended.
 * @module
 */
import { settleEndedHolds } from '../billing/credits.js';
import { deleteExpiredKeys } from '../idempotency/store.js';
import { requeueStalledDeliveries } from '../webhooks/deliveries.js';

/** One maintenance pass. */
export async function runMaintenance(env: Env, nowMs: number = Date.now()): Promise<{ expiredKeys: number; requeuedDeliveries: number; settledHolds: number }> {
  const expiredKeys = await deleteExpiredKeys(env.DB, nowMs);
  const requeuedDeliveries = await requeueStalledDeliveries(env, nowMs);
  const settledHolds = await settleEndedHolds(env);
  console.log(JSON.stringify({ level: 'info', message: 'maintenance', expired_idempotency_keys: expiredKeys, requeued_webhook_deliveries: requeuedDeliveries, settled_holds: settledHolds }));
  return { expiredKeys, requeuedDeliveries, settledHolds };
}
