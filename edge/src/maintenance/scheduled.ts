/**
 * The cron handler (`[triggers] crons` in wrangler.toml). Every minute: the fleet reaper (`reaper.ts`). Every
 * ten minutes also: expires Idempotency-Key records after 24 h, re-queues webhook deliveries whose queue
 * message was lost, and settles credit holds of ended predictions whose settlement did not happen when they ended.
 * @module
 */
import { settleEndedHolds } from '../billing/credits.js';
import { deleteExpiredKeys } from '../idempotency/store.js';
import type { StatusListeners } from '../predictions/status-change.js';
import { requeueStalledDeliveries } from '../webhooks/deliveries.js';
import { reapPredictions } from './reaper.js';
import { edgeLogger } from '../logging.js';

/** The cron expression of the every-minute trigger (the reaper alone). */
export const REAPER_CRON = '* * * * *';

/** One maintenance pass. */
export async function runMaintenance(
  env: Env,
  nowMs: number = Date.now(),
): Promise<{ expiredKeys: number; requeuedDeliveries: number; settledHolds: number }> {
  const expiredKeys = await deleteExpiredKeys(env.DB, nowMs);
  const requeuedDeliveries = await requeueStalledDeliveries(env, nowMs);
  const settledHolds = await settleEndedHolds(env);
  edgeLogger.info('maintenance', {
    expired_idempotency_keys: expiredKeys,
    requeued_webhook_deliveries: requeuedDeliveries,
    settled_holds: settledHolds,
  });
  return { expiredKeys, requeuedDeliveries, settledHolds };
}

/** Runs what the trigger `cron` is for. */
export async function runScheduled(env: Env, listeners: StatusListeners, cron: string, nowMs: number = Date.now()): Promise<void> {
  await reapPredictions(env, listeners, nowMs);
  if (cron !== REAPER_CRON) await runMaintenance(env, nowMs);
}
