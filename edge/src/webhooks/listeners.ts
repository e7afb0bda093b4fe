/**
 * Which webhook events a prediction's changes produce: `start` when it starts processing, `logs` on progress
 * (throttled), `output` when it succeeds, `completed` when it ends in any way — each only if the prediction
 * has a webhook and its `webhook_events_filter` includes the event.
 * @module
 */
import { isTerminal, type WebhookEvent } from '../../../shared/prediction.js';
import type { StatusListener } from '../predictions/status-change.js';
import type { PredictionRow } from '../predictions/row.js';
import { createDelivery } from './deliveries.js';

/** Status listener queuing the deliveries of a status change. */
export const enqueueWebhooks: StatusListener = async (env, { from, row }) => {
  if (row.webhook === null) return;
  const events: WebhookEvent[] = [];
  if (row.status === 'processing' && from === 'starting') events.push('start');
  if (row.status === 'succeeded') events.push('output');
  if (isTerminal(row.status)) events.push('completed');
  for (const event of events) await createDelivery(env, row, event);
};

/** Queues a (throttled) `logs` delivery for a progress update. */
export async function enqueueProgressWebhook(env: Env, row: PredictionRow): Promise<void> {
  if (row.webhook === null) return;
  await createDelivery(env, row, 'logs');
}
